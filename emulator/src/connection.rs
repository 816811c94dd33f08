//! Connections a request handler can abort, for the network faults: a listener whose streams
//! carry a [`ConnectionHandle`] into every request (as axum connect info), so a handler can
//! reset the TCP connection it arrived on instead of answering.
//!
//! A reset sets `SO_LINGER` to zero and fails the stream's next read; hyper then drops the
//! connection, and the kernel answers with a TCP RST: the client sees "connection reset by
//! peer", as when a load balancer or NAT drops a connection mid-request. hyper keeps reading a
//! connection while a request is in flight (to notice a client hanging up), so a handler that
//! never answers is dropped as soon as its client gives up.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// What a handler and its connection's stream share.
#[derive(Debug, Default)]
struct Control {
    reset: AtomicBool,
    /// The task reading the connection, woken when a reset is asked for.
    reader: Mutex<Option<Waker>>,
}

/// The handle of one connection, given to each request on it.
#[derive(Clone, Debug)]
pub struct ConnectionHandle(Arc<Control>);

impl ConnectionHandle {
    /// Aborts the connection with a TCP reset; nothing more is read or written on it.
    pub fn reset(&self) {
        self.0.reset.store(true, Ordering::SeqCst);
        if let Some(waker) = self
            .0
            .reader
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            waker.wake();
        }
    }
}

impl Connected<IncomingStream<'_, AbortableListener>> for ConnectionHandle {
    fn connect_info(stream: IncomingStream<'_, AbortableListener>) -> Self {
        ConnectionHandle(stream.io().control.clone())
    }
}

/// A TCP stream that fails with `ConnectionReset` once its handle asked for a reset.
pub struct AbortableStream {
    stream: TcpStream,
    control: Arc<Control>,
}

impl AbortableStream {
    fn check(&self) -> io::Result<()> {
        if self.control.reset.load(Ordering::SeqCst) {
            // A zero linger turns the close hyper does next into a RST.
            let _ = self.stream.set_zero_linger();
            return Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by fault injection",
            ));
        }
        Ok(())
    }
}

impl AsyncRead for AbortableStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        *this
            .control
            .reader
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(cx.waker().clone());
        this.check()?;
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for AbortableStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check()?;
        Pin::new(&mut this.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// A TCP listener whose connections can be reset by the requests on them.
pub struct AbortableListener(pub TcpListener);

impl Listener for AbortableListener {
    type Io = AbortableStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (AbortableStream, SocketAddr) {
        loop {
            match self.0.accept().await {
                Ok((stream, address)) => {
                    let _ = stream.set_nodelay(true);
                    let stream = AbortableStream {
                        stream,
                        control: Arc::default(),
                    };
                    return (stream, address);
                }
                // Out of file descriptors and the like: wait rather than spin, as axum does.
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.0.local_addr()
    }
}
