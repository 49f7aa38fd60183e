//! A keep-alive HTTP/1.1 load client that can present a client certificate, for the
//! mutual-TLS figure (wrk cannot present one). Each connection is a thread that sends
//! one GET after another on one connection for a fixed time; it prints requests per
//! second, p50 and p99 latency and errors. `benches/mtls-load.sh` runs it against the
//! same server configuration with and without TLS, client certificates and audit.
//!
//!     nomen-loadgen PORT PATH CONNECTIONS SECONDS [CA CERT KEY]
//!
//! Only 127.0.0.1 is ever contacted.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use openssl::ssl::{SslConnector, SslFiletype, SslMethod};

trait Stream: Read + Write {}
impl<T: Read + Write> Stream for T {}

fn connect(port: u16, tls: Option<&SslConnector>) -> Box<dyn Stream> {
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to 127.0.0.1");
    tcp.set_nodelay(true).ok();
    match tls {
        Some(c) => Box::new(c.connect("localhost", tcp).expect("TLS handshake")),
        None => Box::new(tcp),
    }
}

/// Reads one answer (head + Content-Length body); returns its status.
fn answer(stream: &mut dyn Stream, pending: &mut Vec<u8>, buf: &mut [u8]) -> Option<u16> {
    loop {
        if let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&pending[..end]).ok()?;
            let status = head.split_whitespace().nth(1)?.parse().ok()?;
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (k, v) = l.split_once(':')?;
                    k.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse().ok())?
                })
                .unwrap_or(0);
            if pending.len() >= end + 4 + length {
                pending.drain(..end + 4 + length);
                return Some(status);
            }
        }
        let n = stream.read(buf).ok()?;
        if n == 0 {
            return None;
        }
        pending.extend_from_slice(&buf[..n]);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        eprintln!("usage: nomen-loadgen PORT PATH CONNECTIONS SECONDS [CA CERT KEY]");
        return;
    }
    let port: u16 = args[0].parse().expect("port");
    let path = args[1].clone();
    let connections: usize = args[2].parse().expect("connections");
    let seconds: u64 = args[3].parse().expect("seconds");
    let tls = (args.len() >= 7).then(|| {
        let mut b = SslConnector::builder(SslMethod::tls_client()).unwrap();
        b.set_ca_file(&args[4]).unwrap();
        b.set_certificate_file(&args[5], SslFiletype::PEM).unwrap();
        b.set_private_key_file(&args[6], SslFiletype::PEM).unwrap();
        // Whole records in one recv, as the server reads them; without this the client
        // makes two syscalls per answer (the record header, then its body).
        b.set_read_ahead(true);
        b.build()
    });
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let results: Vec<(Vec<u32>, u64)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                let tls = tls.as_ref();
                let request = request.as_bytes();
                scope.spawn(move || {
                    let mut stream = connect(port, tls);
                    let mut pending = Vec::new();
                    let mut buf = vec![0u8; 65536];
                    let mut micros = Vec::new();
                    let mut errors = 0u64;
                    while Instant::now() < deadline {
                        let start = Instant::now();
                        if stream.write_all(request).is_err() {
                            errors += 1;
                            stream = connect(port, tls);
                            continue;
                        }
                        match answer(&mut *stream, &mut pending, &mut buf) {
                            Some(200) => micros.push(start.elapsed().as_micros() as u32),
                            Some(_) => errors += 1,
                            None => {
                                errors += 1;
                                pending.clear();
                                stream = connect(port, tls);
                            }
                        }
                    }
                    (micros, errors)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let mut all: Vec<u32> = results
        .iter()
        .flat_map(|(m, _)| m.iter().copied())
        .collect();
    let errors: u64 = results.iter().map(|(_, e)| e).sum();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|&us| us as f64 / 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "requests {} req/s {:.0} p50_ms {:.3} p99_ms {:.3} errors {}",
        all.len(),
        all.len() as f64 / seconds as f64,
        pct(0.5),
        pct(0.99),
        errors
    );
}
