//! A real browser for the console's tests: Debian's headless Chromium driven over WebDriver
//! (`chromedriver` on a free port of 127.0.0.1, the `fantoccini` client), with the steps the
//! tests take (open, wait for a page, click, type, screenshot, sign in and out).
//!
//! `.ci/run` installs `chromium` and `chromium-driver`. Without them [`binaries`] fails the
//! test under CI (`CI` set) and answers `None` elsewhere (the caller skips, loudly).

// The skip notice goes to stderr on purpose: a skipped browser test must be visible.
#![allow(clippy::print_stderr)]

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

/// How long a page may take to appear.
pub const PAGE_WAIT: Duration = Duration::from_secs(15);

/// The first of `names` found on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Chromium and chromedriver, or `None` (skipped, loudly) outside CI; under CI their
/// absence fails the test.
pub fn binaries() -> Option<(PathBuf, PathBuf)> {
    let found = on_path(&["chromium", "chromium-browser"]).zip(on_path(&["chromedriver"]));
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but chromium or chromedriver is not on PATH: install Debian's \
             `chromium` and `chromium-driver` (.ci/run does)"
        );
        eprintln!(
            "SKIPPED a console browser test: chromium or chromedriver is not on PATH \
             (install Debian's `chromium` and `chromium-driver`; under CI this is a failure)"
        );
    }
    found
}

/// A running chromedriver, killed when dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// chromedriver on a free port of 127.0.0.1, once it listens.
    pub fn start(binary: &Path) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting chromedriver");
        let driver = Self { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        driver
    }

    /// A headless Chromium session, laptop-sized.
    pub async fn session(&self, chromium: &Path) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", "--window-size=1280,900", "--lang=en-US",
                ],
            }),
        );
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session through chromedriver")
    }
}

/// Where a suite's screenshots go: `console-screenshots/` beside the test's
/// `CARGO_TARGET_TMPDIR` (so under the target directory).
pub fn screenshots(target_tmpdir: &str) -> PathBuf {
    let dir = Path::new(target_tmpdir)
        .parent()
        .unwrap_or(Path::new("."))
        .join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("the screenshots directory");
    dir
}

/// The browser on the console: the client, the console's address, where screenshots go.
#[derive(Debug)]
pub struct Browser {
    /// The WebDriver session.
    pub client: Client,
    /// `http://127.0.0.1:PORT` of the console.
    pub base: String,
    /// The screenshots' directory.
    pub shots: PathBuf,
}

impl Browser {
    /// Opens `path` of the console.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        match self.client.find(Locator::Css("body")).await {
            Ok(body) => body.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Waits for the page whose `h1` reads `title`.
    pub async fn wait_page(&self, title: &str) {
        let heading = format!("//main/h1[normalize-space()=\"{title}\"]");
        self.wait_for(&heading, &format!("the page {title:?}"))
            .await;
    }

    /// Waits for the element at `xpath` (`what` names it in the failure).
    pub async fn wait_for(&self, xpath: &str, what: &str) {
        if let Err(error) = self
            .client
            .wait()
            .at_most(PAGE_WAIT)
            .for_element(Locator::XPath(xpath))
            .await
        {
            panic!(
                "{what} did not appear ({error}); the browser shows {}: {}",
                self.client
                    .current_url()
                    .await
                    .map(|u| u.to_string())
                    .unwrap_or_default(),
                self.text().await
            );
        }
    }

    /// The buttons labelled `label` on the page.
    pub async fn buttons(&self, label: &str) -> usize {
        let xpath = format!("//button[normalize-space()=\"{label}\"]");
        self.client
            .find_all(Locator::XPath(&xpath))
            .await
            .map(|found| found.len())
            .unwrap_or(0)
    }

    /// Clicks the button labelled `label`.
    pub async fn click_button(&self, label: &str) {
        let xpath = format!("//button[normalize-space()=\"{label}\"]");
        let button = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button {label:?}: {e}"));
        button.click().await.expect("a click");
    }

    /// Follows the link reading `text`.
    pub async fn click_link(&self, text: &str) {
        let link = self
            .client
            .find(Locator::LinkText(text))
            .await
            .unwrap_or_else(|e| panic!("no link {text:?}: {e}"));
        link.click().await.expect("a click");
    }

    /// Replaces the text of the control `id` with `text`.
    pub async fn type_into(&self, id: &str, text: &str) {
        let field = self
            .client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no control #{id}: {e}"));
        field.clear().await.expect("cleared");
        field.send_keys(text).await.expect("typed");
    }

    /// Chooses `value` in the select `id`.
    pub async fn select(&self, id: &str, value: &str) {
        self.client
            .find(Locator::Id(id))
            .await
            .unwrap_or_else(|e| panic!("no select #{id}: {e}"))
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("no option {value:?} in #{id}: {e}"));
    }

    /// Saves the page as `<name>.png`.
    pub async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("saved");
    }

    /// Signs in as `email` with `password` and waits for the overview.
    pub async fn sign_in(&self, email: &str, password: &str) {
        self.open("/console/login").await;
        self.wait_page("Sign in").await;
        self.type_into("email", email).await;
        self.type_into("password", password).await;
        self.click_button("Sign in").await;
        self.wait_page("Overview").await;
    }

    /// Signs out and waits for the sign-in form.
    pub async fn sign_out(&self) {
        self.click_button("Sign out").await;
        self.wait_page("Sign in").await;
    }
}
