"""pyas2lib receiving over HTTPS: ../shared/interop/peer.py's `serve` behind Python's own TLS
stack (the `ssl` module, OpenSSL), an implementation independent of ours.

    python serve_tls.py --peer PATH/peer.py --cert CERT.pem --key KEY.pem -- <peer.py serve args>

The listening socket is wrapped in a TLS 1.2+ server context before `serve` starts; nothing
else of peer.py changes. Used by the end-to-end suite (tests/tests/it/interop.rs).
"""

import argparse
import http.server
import runpy
import ssl
import sys


def main():
    ours = argparse.ArgumentParser(description=__doc__)
    ours.add_argument("--peer", required=True, help="path of peer.py")
    ours.add_argument("--cert", required=True, help="the server's certificate chain (PEM)")
    ours.add_argument("--key", required=True, help="the server's private key (PEM)")
    args, rest = ours.parse_known_args()
    if rest and rest[0] == "--":
        rest = rest[1:]

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(args.cert, args.key)

    class TlsServer(http.server.ThreadingHTTPServer):
        def server_bind(self):
            super().server_bind()
            self.socket = context.wrap_socket(self.socket, server_side=True)

    http.server.ThreadingHTTPServer = TlsServer
    sys.argv = [args.peer, "serve", *rest]
    runpy.run_path(args.peer, run_name="__main__")


if __name__ == "__main__":
    main()
