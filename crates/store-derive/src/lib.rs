//! `#[derive(FromSqliteRow)]`: decodes a row struct from a rusqlite row the way `#[derive(sqlx::FromRow)]` decodes
//! it from sqlx's rows — each field from the column of its name, reading the same field attributes
//! `#[sqlx(rename = "…")]`, `#[sqlx(flatten)]` (a nested row struct from the same row) and `#[sqlx(default)]` (the
//! type's default when the column is absent). One set of attributes describes both drivers' decoding.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, LitStr, parse_macro_input};

/// How one field is read.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    flatten: bool,
    default: bool,
}

fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut attrs = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("sqlx")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                attrs.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("flatten") {
                attrs.flatten = true;
            } else if meta.path.is_ident("default") {
                attrs.default = true;
            } else {
                return Err(meta.error("FromSqliteRow reads only rename, flatten and default"));
            }
            Ok(())
        })?;
    }
    Ok(attrs)
}

/// Implements `tessera_store::db::FromSqliteRow` for a struct with named fields.
#[proc_macro_derive(FromSqliteRow, attributes(sqlx))]
pub fn derive_from_sqlite_row(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(input, "FromSqliteRow derives only for structs"));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(input, "FromSqliteRow derives only for structs with named fields"));
    };
    let mut inits = Vec::new();
    for field in &fields.named {
        let ident = field.ident.as_ref().expect("a named field");
        let ty = &field.ty;
        let attrs = field_attrs(field)?;
        let column = attrs.rename.unwrap_or_else(|| ident.to_string().trim_start_matches("r#").to_owned());
        inits.push(if attrs.flatten {
            quote! { #ident: <#ty as crate::db::FromSqliteRow>::from_sqlite_row(row)? }
        } else if attrs.default {
            quote! {
                #ident: match row.get::<_, #ty>(#column) {
                    Err(rusqlite::Error::InvalidColumnName(_)) => ::core::default::Default::default(),
                    other => other?,
                }
            }
        } else {
            quote! { #ident: row.get::<_, #ty>(#column)? }
        });
    }
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics crate::db::FromSqliteRow for #name #ty_generics #where_clause {
            fn from_sqlite_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                Ok(Self { #(#inits),* })
            }
        }
    })
}
