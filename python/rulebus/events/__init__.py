"""Amazon EventBridge: event buses, rules, targets, input transformers, archives, replays and
schedules."""
