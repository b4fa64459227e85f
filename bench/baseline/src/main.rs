//! Hello-world axum server: `GET /` and `POST /` answer a small fixed JSON body. Address from the first argument.

use axum::Router;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;

async fn hello() -> impl IntoResponse {
    ([(CONTENT_TYPE, "application/json")], r#"{"hello":"world"}"#)
}

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8090".into());
    let app = Router::new().route("/", get(hello).post(hello));
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}
