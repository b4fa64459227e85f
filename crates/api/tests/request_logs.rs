//! The request trace: query values never reach the logs (list filters carry e-mail addresses and phone numbers).
//!
//! A test binary of its own: `tracing` caches per-callsite interest process-wide, and tests running on other threads
//! of a shared binary (with no subscriber) can leave the trace layer's callsites cached as uninteresting, so a
//! scoped subscriber would capture nothing.

use std::io;
use std::sync::{Arc, Mutex};

use tessera_testkit::TestApp;

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn query_values_stay_out_of_the_request_trace() {
    let app = TestApp::new().await;
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    app.get("/v1/users?email_address=private.person%40example.com&phone_number=%2B15551234567&limit=5")
        .send()
        .await
        .assert_status(200);
    drop(guard);
    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    // The request is still traced, by path and parameter names.
    assert!(text.contains("path=/v1/users"), "{text}");
    assert!(text.contains("query=email_address,phone_number,limit"), "{text}");
    for value in ["private.person", "15551234567"] {
        assert!(!text.contains(value), "{value} logged:\n{text}");
    }
}
