"""Services: the one place where domain rules, the store and the event bus meet."""
