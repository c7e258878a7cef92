"""Reading passes: frame sources, QR decoders and the retry ladder, debounce, keyboard-wedge
scanners and the capture loop. Imports only `station.domain` and third-party libraries."""
