use ws_core::{
    Action, Disconnect, Event, Frame, Heartbeat, Liveness, Matcher, Message, ServerPing, Text,
    TimerReason,
};

use crate::support::{Sim, ms, secs};

fn protocol(ping: u64, pong: u64) -> Sim {
    Sim::with(|c| {
        c.ping_interval(secs(ping))
            .pong_timeout(secs(pong))
            .jitter(ws_core::Jitter::None)
    })
}

#[test]
fn first_ping_goes_out_exactly_one_interval_after_open() {
    let mut sim = protocol(20, 20);
    sim.open_at(1_000);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(11_000), TimerReason::ConnectionStable))
    );
    assert!(sim.tick(20_999).pings().is_empty());
    assert_eq!(sim.tick(21_000).pings(), [1]);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(41_000), TimerReason::PongOverdue))
    );
}

#[test]
fn pong_in_time_measures_rtt_and_reschedules_from_the_pong() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    sim.tick(20_000);
    let out = sim.pong(1, 20_250);
    assert_eq!(out.events, [Event::Rtt(ms(250).since_origin())]);
    assert_eq!(sim.sup.stats().last_rtt, Some(ms(250).since_origin()));
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(40_250), TimerReason::PingDue))
    );
    assert_eq!(sim.tick(40_250).pings(), [2]);
}

#[test]
fn silent_peer_is_dropped_exactly_at_the_pong_deadline() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    sim.tick(20_000);
    assert!(sim.tick(39_999).is_empty());
    let out = sim.tick(40_000);
    assert_eq!(out.actions, [Action::Abort]);
    assert!(matches!(
        out.disconnected(),
        Some(Event::Disconnected {
            cause: Disconnect::HeartbeatTimeout,
            will_reconnect: true,
            ..
        })
    ));
}

#[test]
fn pong_one_tick_late_drops_the_connection() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    sim.tick(20_000);
    let id = sim.id();
    let out = sim.tick(40_000);
    assert_eq!(out.actions.first(), Some(&Action::Abort));
    // The pong that arrives after the drop belongs to a dead transport: ignored and counted.
    let late = sim.input(
        ws_core::Input::Frame {
            connection: id,
            frame: Frame::Pong(ws_core::Bytes::copy_from_slice(&1u64.to_be_bytes())),
        },
        40_001,
    );
    assert!(late.is_empty());
    assert_eq!(sim.sup.stats().stale_inputs, 1);
}

#[test]
fn pong_for_an_unknown_sequence_is_not_a_reply() {
    let mut sim = Sim::with(|c| {
        c.liveness(Liveness::ReplyOnly)
            .ping_interval(secs(10))
            .pong_timeout(secs(5))
    });
    sim.open_at(0);
    sim.tick(10_000);
    assert!(sim.pong(7, 11_000).is_empty());
    assert!(
        sim.frame(Frame::Pong(ws_core::Bytes::from_static(b"x")), 12_000)
            .is_empty()
    );
    assert_eq!(sim.tick(15_000).actions, [Action::Abort]);
}

#[test]
fn any_inbound_frame_resets_the_heartbeat_by_default() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    let out = sim.text("hello", 15_000);
    assert_eq!(out.messages(), [Message::from("hello")]);
    assert!(sim.tick(20_000).pings().is_empty());
    assert_eq!(sim.tick(35_000).pings(), [1]);
    // While the ping is out, a message also proves life and cancels the pong deadline.
    sim.text("still here", 50_000);
    assert!(sim.tick(55_000).is_empty());
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(70_000), TimerReason::PingDue))
    );
    // The pong, arriving late, still yields a round trip for the latest ping.
    assert_eq!(sim.pong(1, 60_000).events, [Event::Rtt(secs(25))]);
}

#[test]
fn reply_only_liveness_ignores_messages() {
    let mut sim = Sim::with(|c| {
        c.liveness(Liveness::ReplyOnly)
            .ping_interval(secs(20))
            .pong_timeout(secs(20))
    });
    sim.open_at(0);
    sim.text("busy", 15_000);
    assert_eq!(sim.tick(20_000).pings(), [1]);
    sim.text("busy", 30_000);
    assert_eq!(sim.tick(40_000).actions, [Action::Abort]);
}

#[test]
fn application_heartbeat_is_sent_and_its_reply_is_not_a_message() {
    let mut sim = Sim::with(|c| {
        c.heartbeat(Heartbeat::Application {
            ping: Message::from("ping"),
            pong: Matcher::Exact(Text::from("pong")),
        })
        .ping_interval(secs(15))
        .pong_timeout(secs(10))
    });
    sim.open_at(0);
    let out = sim.tick(15_000);
    assert_eq!(out.actions, [Action::Heartbeat(Message::from("ping"))]);
    let reply = sim.text("pong", 15_040);
    assert_eq!(reply.events, [Event::Rtt(ms(40).since_origin())]);
    assert!(reply.messages().is_empty());
    assert_eq!(sim.sup.stats().messages_received, 0);
}

#[test]
fn server_application_ping_is_answered_and_not_delivered() {
    let mut sim = Sim::with(|c| {
        c.answer_server_ping(ServerPing::new(
            Matcher::Exact(Text::from("ping")),
            Message::from("pong"),
        ))
    });
    sim.open_at(0);
    let out = sim.text("ping", 1_000);
    assert_eq!(out.actions, [Action::Heartbeat(Message::from("pong"))]);
    assert!(out.events.is_empty());
    assert_eq!(
        sim.text("pingpong", 2_000).messages(),
        [Message::from("pingpong")]
    );
}

#[test]
fn server_driven_mode_sends_no_pings_and_drops_after_idle_timeout() {
    let mut sim = Sim::with(|c| c.heartbeat(Heartbeat::ServerDriven).idle_timeout(secs(30)));
    sim.open_at(0);
    sim.frame(Frame::Ping(ws_core::Bytes::new()), 20_000);
    assert!(sim.tick(49_999).is_empty());
    let out = sim.tick(50_000);
    assert_eq!(out.actions, [Action::Abort]);
    assert!(matches!(
        out.disconnected(),
        Some(Event::Disconnected {
            cause: Disconnect::IdleTimeout,
            ..
        })
    ));
}

#[test]
fn disabled_heartbeat_arms_no_heartbeat_timer() {
    let mut sim = Sim::with(|c| c.heartbeat(Heartbeat::Disabled).stable_after(secs(0)));
    sim.open_at(0);
    assert_eq!(sim.sup.poll_timeout(), None);
}

#[test]
fn late_tick_sends_a_probe_instead_of_declaring_the_peer_dead() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    sim.run_until(20_000);
    // The process was suspended: the tick for the 40 s deadline comes at 300 s.
    let out = sim.tick(300_000);
    assert_eq!(out.pings(), [2]);
    assert!(out.disconnected().is_none());
    assert_eq!(sim.sup.stats().late_ticks, 1);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(320_000), TimerReason::PongOverdue))
    );
    // The probe is answered: all is well.
    assert_eq!(
        sim.pong(2, 300_010).events,
        [Event::Rtt(ms(10).since_origin())]
    );
}

#[test]
fn a_probe_deadline_is_final_even_when_its_tick_is_late_too() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    sim.tick(20_000);
    sim.tick(300_000);
    let out = sim.tick(900_000);
    assert_eq!(out.actions, [Action::Abort]);
}

#[test]
fn tick_within_the_late_threshold_is_on_time() {
    let mut sim = protocol(20, 20);
    sim.open_at(0);
    sim.tick(20_000);
    assert_eq!(sim.tick(41_000).actions, [Action::Abort]);
}

#[test]
fn network_change_probes_at_once_without_extending_the_running_deadline() {
    let mut sim = Sim::with(|c| c.stable_after(secs(0)));
    sim.open_at(0);
    let out = sim.input(ws_core::Input::NetworkChanged, 5_000);
    assert_eq!(out.pings(), [1]);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(25_000), TimerReason::PongOverdue))
    );
    let again = sim.input(ws_core::Input::NetworkChanged, 10_000);
    assert_eq!(again.pings(), [2]);
    assert_eq!(
        sim.sup.next_deadline(),
        Some((ms(25_000), TimerReason::PongOverdue))
    );
    assert_eq!(sim.tick(25_000).actions, [Action::Abort]);
}
