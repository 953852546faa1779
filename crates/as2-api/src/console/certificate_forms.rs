//! Adding certificates from the console (admins and owners): the upload form (a PEM or DER
//! certificate, a PKCS#12 or PEM key pair; `multipart/form-data`, the CSRF token its first
//! field) and the self-signed key pair form, each through the function its `/v1/certificates`
//! route runs, the API's sentences beside the fields.

use std::collections::HashMap;

use as2_domain::user::ConsoleAction;
use axum::Form;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};

use crate::console::certificates::render;
use crate::console::changes::{allowed, record};
use crate::console::layout::csrf_field;
use crate::console::partners::recorded;
use crate::console::session::ConsoleSession;
use crate::error::{ApiError, FieldErrors};
use crate::routes::certificates::{
    GenerateInput, generate as generate_key_pair, multipart_source, upload as store_upload,
};
use crate::state::AppState;

/// What the forms show: what was typed and the sentences beside each field.
#[derive(Debug, Default)]
pub struct Forms {
    /// The upload form's name.
    pub upload: HashMap<String, String>,
    /// Its sentences, by field (a certificate that cannot be read: `file`).
    pub upload_errors: FieldErrors,
    /// The generation form's values.
    pub generate: HashMap<String, String>,
    /// Its sentences, by field.
    pub generate_errors: FieldErrors,
}

fn described(prefix: &str, name: &str, errors: &FieldErrors) -> String {
    if errors.contains_key(name) {
        format!("{prefix}{name}-hint {prefix}{name}-error")
    } else {
        format!("{prefix}{name}-hint")
    }
}

/// A field: label, control, hint, the API's sentences; ids are `prefix` + the API's name.
fn field(
    prefix: &str,
    name: &str,
    label: &str,
    hint: &str,
    errors: &FieldErrors,
    control: &Markup,
) -> Markup {
    html! {
        div class="field" {
            label for={ (prefix) (name) } { (label) }
            (control)
            small id={ (prefix) (name) "-hint" } { (hint) }
            @if let Some(sentences) = errors.get(name) {
                p class="error" id={ (prefix) (name) "-error" } { @for s in sentences { (s) " " } }
            }
        }
    }
}

fn text(
    prefix: &str,
    name: &str,
    kind: &str,
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let value = if kind == "password" {
        None
    } else {
        values.get(name)
    };
    html! {
        input id={ (prefix) (name) } name=(name) type=(kind) value=[value]
            autocomplete=[(kind == "password").then_some("off")]
            aria-describedby=(described(prefix, name, errors)) aria-invalid=[errors.contains_key(name).then_some("true")];
    }
}

fn choice(
    prefix: &str,
    name: &str,
    options: &[(&str, &str)],
    values: &HashMap<String, String>,
    errors: &FieldErrors,
) -> Markup {
    let chosen = values.get(name).map(String::as_str).unwrap_or_default();
    html! {
        select id={ (prefix) (name) } name=(name)
            aria-describedby=(described(prefix, name, errors)) aria-invalid=[errors.contains_key(name).then_some("true")] {
            @for (value, label) in options {
                option value=(value) selected[*value == chosen] { (label) }
            }
        }
    }
}

fn alert(errors: &FieldErrors, what: &str) -> Markup {
    html! {
        @if !errors.is_empty() {
            div class="error" role="alert" { p { (what) ": correct the fields marked below." } }
        }
    }
}

/// The two forms.
pub fn forms(console: &ConsoleSession, forms: &Forms) -> Markup {
    let (u, ue) = (&forms.upload, &forms.upload_errors);
    let (g, ge) = (&forms.generate, &forms.generate_errors);
    html! {
        h2 id="upload" { "Upload a certificate or key pair" }
        (alert(ue, "Nothing was uploaded"))
        form method="post" action="/console/certificates/upload" enctype="multipart/form-data" novalidate {
            (csrf_field(console))
            (field("upload-", "name", "Name", "How the certificate is shown", ue, &text("upload-", "name", "text", u, ue)))
            (field("upload-", "file", "File", "A certificate (PEM or DER), a chain (PEM), or a key pair: PKCS#12 (.p12, .pfx) or PEM with the private key and its certificate", ue, &html! {
                input id="upload-file" name="file" type="file"
                    aria-describedby=(described("upload-", "file", ue)) aria-invalid=[ue.contains_key("file").then_some("true")];
            }))
            (field("upload-", "password", "Password", "Of a PKCS#12 file or an encrypted PEM key; never stored", ue, &text("upload-", "password", "password", u, ue)))
            p { button type="submit" { "Upload" } }
        }
        h2 id="generate" { "Generate a self-signed key pair" }
        (alert(ge, "No key pair was generated"))
        form method="post" action="/console/certificates/generate" novalidate {
            (csrf_field(console))
            (field("generate-", "name", "Name", "How the key pair is shown", ge, &text("generate-", "name", "text", g, ge)))
            (field("generate-", "common_name", "Common name", "The certificate's subject, CN=…; at most 64 characters", ge, &text("generate-", "common_name", "text", g, ge)))
            (field("generate-", "key_type", "Key", "RSA, or an elliptic curve (ECDSA signatures, ECDH key agreement)", ge,
                &choice("generate-", "key_type", &[("rsa", "RSA"), ("ec-p256", "EC P-256"), ("ec-p384", "EC P-384")], g, ge)))
            (field("generate-", "key_size", "RSA key size", "RSA keys only", ge,
                &choice("generate-", "key_size", &[("", "Default (2048 bits)"), ("2048", "2048 bits"), ("3072", "3072 bits"), ("4096", "4096 bits")], g, ge)))
            (field("generate-", "days", "Valid for (days)", "1 to 3650; empty: 365", ge, &text("generate-", "days", "text", g, ge)))
            p { button type="submit" { "Generate key pair" } }
        }
    }
}

/// The sentences of a refused upload or generation by field; a sentence naming no field
/// (an unreadable certificate) goes beside `field`.
fn sentences(error: &ApiError, field: &str) -> FieldErrors {
    if let Some(errors) = error.field_errors() {
        return errors.clone();
    }
    let body = error.body();
    let message = body["message"].as_str().unwrap_or("The request failed");
    FieldErrors::from([(field.to_owned(), vec![message.to_owned()])])
}

/// Records the change, then back to the list.
async fn done(
    state: &AppState,
    console: &ConsoleSession,
    action: &'static str,
    id: String,
    changes: String,
) -> Response {
    let Some(scope) = console.scope() else {
        return Redirect::to("/console/certificates").into_response();
    };
    let actor = console.clone();
    let recorded = state
        .blocking("Certificate", move |s| {
            record(
                s.store(),
                scope,
                &actor,
                action,
                ("certificate", Some(id.as_str())),
                &changes,
            )?;
            Ok(())
        })
        .await;
    match recorded {
        Ok(()) => Redirect::to("/console/certificates").into_response(),
        Err(error) => error.into_response(),
    }
}

/// `POST /console/certificates/upload` (multipart: `csrf_token` first, `name`, `file`,
/// `password`): stores the upload through the API's reading of it, or shows the page again
/// with the API's sentence beside the field.
pub async fn upload(
    State(state): State<AppState>,
    console: ConsoleSession,
    request: Request,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let mut read_name = None;
    let outcome = match multipart_source(request, &[crate::console::csrf::FIELD]).await {
        Ok((name, source)) => {
            read_name = Some(name.clone());
            store_upload(&state, scope, name.clone(), source)
                .await
                .map(|c| (c, name))
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok((certificate, name)) => {
            let changes = serde_json::json!({ "name": name, "kind": certificate.kind.to_string() });
            done(
                &state,
                &console,
                "certificate.create",
                certificate.id.to_string(),
                changes.to_string(),
            )
            .await
        }
        Err(error) => {
            let forms = Forms {
                upload: read_name
                    .map(|n| HashMap::from([("name".to_owned(), n)]))
                    .unwrap_or_default(),
                upload_errors: sentences(&error, "file"),
                ..Forms::default()
            };
            render(&state, &console, &forms, error.status()).await
        }
    }
}

/// The API's generation body from the form; days that are not a number are said beside
/// their field before anything is generated.
fn generation(values: &HashMap<String, String>) -> Result<GenerateInput, FieldErrors> {
    let text = |name: &str| values.get(name).map(|v| v.trim().to_owned());
    let kept = |name: &str| text(name).filter(|v| !v.is_empty());
    let mut errors = FieldErrors::new();
    let mut number = |name: &str, sentence: &str| {
        kept(name).and_then(|v| {
            v.parse::<i64>().map(Some).unwrap_or_else(|_| {
                errors.insert(name.to_owned(), vec![sentence.to_owned()]);
                None
            })
        })
    };
    let days = number("days", "The days must be a whole number");
    let key_size = number("key_size", "The key size must be a whole number");
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(GenerateInput {
        name: text("name"),
        common_name: text("common_name"),
        days,
        key_type: kept("key_type"),
        key_size,
    })
}

/// `POST /console/certificates/generate`: a self-signed key pair through the API's own
/// generation, or the page again with its sentences beside the fields.
pub async fn generate(
    State(state): State<AppState>,
    console: ConsoleSession,
    Form(values): Form<HashMap<String, String>>,
) -> Response {
    let scope = match allowed(&console, ConsoleAction::Configure) {
        Ok(scope) => scope,
        Err(refused) => return *refused,
    };
    let refused = |errors: FieldErrors, status| {
        let forms = Forms {
            generate: values.clone(),
            generate_errors: errors,
            ..Forms::default()
        };
        (forms, status)
    };
    let input = match generation(&values) {
        Ok(input) => input,
        Err(errors) => {
            let (forms, status) = refused(errors, axum::http::StatusCode::UNPROCESSABLE_ENTITY);
            return render(&state, &console, &forms, status).await;
        }
    };
    match generate_key_pair(&state, scope, input).await {
        Ok(certificate) => {
            done(
                &state,
                &console,
                "certificate.generate",
                certificate.id.to_string(),
                recorded(&values),
            )
            .await
        }
        Err(error) => {
            let (forms, status) = refused(sentences(&error, "common_name"), error.status());
            render(&state, &console, &forms, status).await
        }
    }
}
