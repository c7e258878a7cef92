import multiprocessing

if __name__ == "__main__":
    # In the PyInstaller bundle, a worker process (sync's prepare.py) starts this program
    # again: freeze_support() runs the worker's job instead of the command line.
    multiprocessing.freeze_support()
    from station.cli import main

    raise SystemExit(main())
