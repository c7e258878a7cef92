"""Pure domain: models, rules, events, clocks, codes and tokens. No I/O, no Qt."""
