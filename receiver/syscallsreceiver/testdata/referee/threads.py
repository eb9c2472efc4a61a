# Threads doing file work while the main thread handles signals.
import os
import signal
import threading

handled = []
signal.signal(signal.SIGUSR1, lambda sig, frame: handled.append(sig))


def work(i):
    for j in range(50):
        try:
            os.stat("/nonexistent/%d/%d" % (i, j))
        except FileNotFoundError:
            pass
        with open("/dev/null", "w") as f:
            f.write("x")


threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
for t in threads:
    t.start()
for _ in range(5):
    os.kill(os.getpid(), signal.SIGUSR1)
for t in threads:
    t.join()
assert len(handled) == 5
