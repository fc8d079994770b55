//! `MessageQueue` against a model that is obviously right and slow: a list of messages in send
//! order, each with its visibility time and whether it was received. Random sequences of adds,
//! takes (with the caller filing the message again or removing it, as a receive or a delete
//! does), updates, removals, expiry and a clock that moves (mostly forward) must leave both with
//! the same messages, the same counts and the same next message to take.
//!
//! The same runs with little slack in the queue's send order (see `MessageQueue::with_slack`)
//! make it close up and renumber its messages often.
//!
//! `PROPTEST_CASES` sets the number of sequences (default 300).

use proptest::prelude::*;
use rulebus_messaging::queue::{Counts, MessageQueue};

#[derive(Debug, Clone)]
enum Step {
    Add {
        delay: u8,
    },
    /// Take the oldest visible message; then hide it for `hide` seconds (received), or delete it.
    Take {
        hide: Option<u8>,
    },
    /// Change the visibility of the `pick`-th message (any state).
    Update {
        pick: u8,
        hide: u8,
    },
    Remove {
        pick: u8,
    },
    Expire {
        age: u8,
    },
    Tick {
        seconds: u8,
    },
    /// The clock goes back (a test clock may); the queue must never hand out a hidden message.
    Back {
        seconds: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0u8..4).prop_map(|delay| Step::Add { delay: delay.saturating_sub(1) }),
        4 => proptest::option::of(0u8..5).prop_map(|hide| Step::Take { hide }),
        2 => (any::<u8>(), 0u8..5).prop_map(|(pick, hide)| Step::Update { pick, hide }),
        1 => any::<u8>().prop_map(|pick| Step::Remove { pick }),
        1 => (0u8..20).prop_map(|age| Step::Expire { age }),
        3 => (1u8..4).prop_map(|seconds| Step::Tick { seconds }),
        1 => (1u8..3).prop_map(|seconds| Step::Back { seconds }),
    ]
}

/// One message as the model keeps it.
#[derive(Debug, Clone, PartialEq)]
struct Model {
    id: String,
    sent: f64,
    visible_at: f64,
    received: bool,
}

fn model_counts(model: &[Model], now: f64, cutoff: f64) -> Counts {
    let mut counts = Counts::default();
    for m in model.iter().filter(|m| m.sent > cutoff) {
        if m.visible_at <= now {
            counts.visible += 1;
        } else if m.received {
            counts.in_flight += 1;
        } else {
            counts.delayed += 1;
        }
    }
    counts
}

/// `slack`: how many empty cells of its send order the queue keeps beyond one per message
/// before it closes them up and renumbers (see `MessageQueue::with_slack`); None: the default.
fn run(steps: &[Step], slack: Option<usize>) -> Result<(), TestCaseError> {
    let mut queue: MessageQueue<Model> = slack.map_or_else(MessageQueue::new, MessageQueue::with_slack);
    let mut model: Vec<Model> = Vec::new();
    let mut now = 100.0_f64;
    let mut next = 0;
    let mut went_back = false;
    for step in steps {
        match *step {
            Step::Add { delay } => {
                next += 1;
                let m =
                    Model { id: format!("m{next}"), sent: now, visible_at: now + f64::from(delay), received: false };
                queue.add(m.id.as_str(), m.clone(), m.sent, m.visible_at, false, now);
                model.push(m);
            }
            Step::Take { hide } => {
                queue.promote(now);
                let taken = queue.take_held(now).map(|held| {
                    // What the queue keeps beside a message is the message's own.
                    let m = held.message.clone();
                    assert_eq!((held.id, held.sent, held.visible_at), (m.id.as_str(), m.sent, m.visible_at));
                    m
                });
                // The model's answer: the first visible message in send order.
                let expected = model.iter().find(|m| m.visible_at <= now).cloned();
                prop_assert_eq!(taken.as_ref().map(|m| &m.id), expected.as_ref().map(|m| &m.id));
                if let Some(m) = taken {
                    let i = model.iter().position(|x| x.id == m.id).unwrap();
                    if let Some(seconds) = hide {
                        let received = Model { visible_at: now + f64::from(seconds), received: true, ..m };
                        prop_assert!(queue.update(&received.id, received.clone(), received.visible_at, true, now));
                        model[i] = received;
                    } else {
                        prop_assert_eq!(queue.remove(&m.id), Some(m));
                        model.remove(i);
                    }
                }
            }
            Step::Update { pick, hide } if !model.is_empty() => {
                let i = usize::from(pick) % model.len();
                let changed = Model { visible_at: now + f64::from(hide), ..model[i].clone() };
                prop_assert!(queue.update(&changed.id, changed.clone(), changed.visible_at, changed.received, now));
                model[i] = changed;
            }
            Step::Remove { pick } if !model.is_empty() => {
                let m = model.remove(usize::from(pick) % model.len());
                prop_assert_eq!(queue.remove(&m.id), Some(m));
            }
            Step::Expire { age } => {
                let cutoff = now - f64::from(age);
                let before = model.len();
                model.retain(|m| m.sent > cutoff);
                prop_assert_eq!(queue.drop_expired(cutoff), before - model.len());
            }
            Step::Tick { seconds } => now += f64::from(seconds),
            Step::Back { seconds } => {
                now -= f64::from(seconds);
                went_back = true;
            }
            Step::Update { .. } | Step::Remove { .. } => {}
        }
        prop_assert_eq!(queue.len(), model.len());
        prop_assert_eq!(queue.iter().cloned().collect::<Vec<_>>(), model.clone());
        prop_assert_eq!(queue.counts(now, f64::NEG_INFINITY), model_counts(&model, now, f64::NEG_INFINITY));
        queue.promote(now);
        if !went_back {
            // Exact while the clock only moves forward (the broker's never goes back).
            let in_flight = model.iter().filter(|m| m.received && m.visible_at > now).count();
            prop_assert_eq!(queue.in_flight(), in_flight);
        }
    }
    // At the end, with the clock far ahead, everything comes out once, in send order.
    let later = now + 1000.0;
    queue.promote(later);
    let mut drained = Vec::new();
    while let Some(m) = queue.take(later).cloned() {
        drained.push(m.id.clone());
        queue.remove(&m.id);
    }
    prop_assert_eq!(drained, model.iter().map(|m| m.id.clone()).collect::<Vec<_>>());
    prop_assert!(queue.is_empty());
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.trim().parse().ok()).unwrap_or(300)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn the_queue_agrees_with_the_model(steps in proptest::collection::vec(step(), 1..120)) {
        run(&steps, None)?;
    }

    /// With little slack the send order is closed up and renumbered many times per sequence.
    #[test]
    fn the_queue_agrees_with_the_model_while_it_renumbers(
        steps in proptest::collection::vec(step(), 1..120),
        slack in 0usize..3,
    ) {
        run(&steps, Some(slack))?;
    }
}
