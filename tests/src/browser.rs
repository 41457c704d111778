//! A real browser for page tests: Debian's `chromium`, driven through `chromedriver`
//! (both installed by `scripts/test`), headless, on loopback only.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

/// A headless Chromium session and the chromedriver process behind it. Both end on drop.
pub struct Browser {
    client: Client,
    driver: Child,
    profile: std::path::PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a fresh headless session
    /// with an empty profile, on a desktop-sized window.
    pub async fn launch() -> Browser {
        Self::launch_with(None).await
    }

    /// The same on a phone's screen: 390 × 844 CSS pixels at twice the density, with a
    /// phone's user agent and touch (Chromium's device emulation).
    pub async fn launch_phone() -> Browser {
        Self::launch_with(Some(json!({
            "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 2.0, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                (KHTML, like Gecko) Chrome/156.0 Mobile Safari/537.36"
        })))
        .await
    }

    async fn launch_with(mobile_emulation: Option<serde_json::Value>) -> Browser {
        let chromedriver =
            std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".to_owned());
        let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
        assert!(
            std::path::Path::new(&chromedriver).exists()
                && std::path::Path::new(&chromium).exists(),
            "browser tests need Debian's chromium and chromium-driver: run scripts/test, which installs them"
        );
        let port = free_port();
        let driver = Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = std::env::temp_dir().join(format!("payment-e2e-chromium-{port}"));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--window-size=1100,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let mut caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        if let (Some(emulation), Some(serde_json::Value::Object(options))) =
            (mobile_emulation, caps.get_mut("goog:chromeOptions"))
        {
            options.insert("mobileEmulation".to_owned(), emulation);
        }
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::rustls()
                .expect("rustls client")
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("chromedriver did not start a session: {e}"),
            }
        };
        Browser {
            client,
            driver,
            profile,
        }
    }

    /// The WebDriver client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigation");
    }

    /// Clicks the element matching the CSS selector.
    pub async fn click(&self, css: &str) {
        self.client
            .wait()
            .at_most(Duration::from_secs(15))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// Waits until the current URL contains `part`, and returns it.
    pub async fn wait_for_url(&self, part: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await.expect("url").to_string();
            if url.contains(part) {
                return url;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "never reached a URL with {part}; at {url}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the page's text contains `text`, and returns the page source.
    pub async fn wait_for_text(&self, text: &str) -> String {
        let started = Instant::now();
        loop {
            let source = self.client.source().await.expect("source");
            if source.contains(text) {
                return source;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "page never showed {text:?}; it shows:\n{source}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How wide the page is and how wide the screen: `(scrollWidth, clientWidth)` of the
    /// document. A page that fits has the first no larger than the second. (On a phone,
    /// `innerWidth` is no measure: the browser zooms out to show a page that is too wide,
    /// and `innerWidth` grows with it.)
    pub async fn widths(&self) -> (u64, u64) {
        let value = self
            .client
            .execute(
                "return [document.documentElement.scrollWidth, document.documentElement.clientWidth];",
                Vec::new(),
            )
            .await
            .expect("script");
        let width = |i: usize| {
            value
                .get(i)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0)
        };
        (width(0), width(1))
    }

    /// Asserts that the page has no horizontal scroll, then saves a screenshot `name`.
    pub async fn assert_fits(&self, name: &str) {
        let (page, screen) = self.widths().await;
        assert!(
            page <= screen && screen > 0,
            "{name}: the page is {page} px wide on a {screen} px screen"
        );
        self.screenshot(name).await;
    }

    /// Saves a PNG screenshot under `artifacts/` at the workspace root.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../artifacts");
        std::fs::create_dir_all(&dir).expect("artifacts dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }

    /// Ends the session and the driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
