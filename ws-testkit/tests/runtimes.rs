//! The kit is synchronous and runtime-neutral: it must work when created, used and dropped on a
//! thread that is already running some tokio runtime (where `Runtime::block_on` or dropping a
//! runtime would panic).

mod common;

use std::time::Duration;

use common::{WAIT, connect, read_text};
use tungstenite::Message;
use ws_testkit::{FaultProxy, TestServer};

/// Uses the kit from whatever context calls it.
fn exercise() {
    let server = TestServer::start();
    let proxy = FaultProxy::start(server.addr());
    let url = proxy.url();
    // The blocking client runs on its own thread; this task only uses the kit's blocking API.
    let client = std::thread::spawn(move || {
        let mut client = connect(&url);
        client.send(Message::text("inside")).unwrap();
        read_text(&mut client)
    });
    assert!(server.wait_for_received(1, WAIT));
    assert!(proxy.wait_for_connections(1, WAIT));
    assert_eq!(client.join().unwrap(), "inside");
    server.stop();
    server.restart();
    assert!(!server.wait_for_connections(2, Duration::from_millis(1)));
    drop(proxy);
    drop(server);
}

#[tokio::test(flavor = "current_thread")]
async fn usable_and_droppable_inside_a_current_thread_runtime() {
    exercise();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usable_and_droppable_inside_a_multi_thread_runtime() {
    exercise();
}

#[test]
fn usable_inside_a_futures_executor() {
    futures_executor_block_on(async { exercise() });
}

/// A minimal executor that is not tokio, standing in for smol or async-std.
fn futures_executor_block_on<F: std::future::Future>(future: F) -> F::Output {
    use std::sync::Arc;
    use std::task::{Context, Poll, Wake, Waker};

    struct ThreadWaker(std::thread::Thread);
    impl Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn handles_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<TestServer>();
    shareable::<FaultProxy>();
}
