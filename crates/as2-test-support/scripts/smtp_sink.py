"""A real SMTP server for the alert tests (aiosmtpd): every mail it accepts is written to
DIR as NNNNNN.eml (the envelope as X-Envelope-From / X-Envelope-To lines, then the message
as received); with --defer N the first N mails are answered 451 (try again later).

    python smtp_sink.py --port PORT --dir DIR [--defer N]
"""

import argparse
import itertools
import os
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory, defer):
        self.directory = directory
        self.defer = defer
        self.numbers = itertools.count()

    async def handle_DATA(self, server, session, envelope):
        if self.defer > 0:
            self.defer -= 1
            return "451 4.3.0 Try again later (test deferral)"
        number = next(self.numbers)
        part = os.path.join(self.directory, ".%06d.part" % number)
        with open(part, "wb") as out:
            out.write(("X-Envelope-From: %s\r\n" % envelope.mail_from).encode())
            for rcpt in envelope.rcpt_tos:
                out.write(("X-Envelope-To: %s\r\n" % rcpt).encode())
            out.write(envelope.original_content or envelope.content)
        os.rename(part, os.path.join(self.directory, "%06d.eml" % number))
        return "250 2.0.0 OK"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--defer", type=int, default=0)
    args = parser.parse_args()
    controller = Controller(Sink(args.dir, args.defer), hostname=args.host, port=args.port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
