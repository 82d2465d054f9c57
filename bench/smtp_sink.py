"""A local SMTP server (aiosmtpd) that accepts and drops every message, counting messages and
connections; on SIGTERM it prints them as JSON.  python bench/smtp_sink.py PORT"""

import json
import signal
import sys

from aiosmtpd.controller import Controller

counts = {"messages": 0, "connections": 0}


class Sink:
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        counts["connections"] += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        counts["messages"] += 1
        return "250 OK"


def main(port):
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: (controller.stop(), print(json.dumps(counts), flush=True), sys.exit(0)))
    print("ready", flush=True)
    signal.pause()


if __name__ == "__main__":
    main(int(sys.argv[1]))
