#!/usr/bin/env python3
"""A tiny client-go exec credential plugin: prints an ExecCredential holding --token.

It answers in the apiVersion the caller asked for (KUBERNETES_EXEC_INFO), v1 or v1beta1, and with
--log appends one line per call, so a test can see that the plugin really ran.
"""
import argparse
import datetime
import json
import os
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--token", required=True)
    ap.add_argument("--log")
    ap.add_argument("--expire-seconds", type=int, default=0,
                    help="set status.expirationTimestamp this far ahead (0: none)")
    args = ap.parse_args()
    info = json.loads(os.environ.get("KUBERNETES_EXEC_INFO") or "{}")
    api_version = info.get("apiVersion") or "client.authentication.k8s.io/v1"
    status = {"token": args.token}
    if args.expire_seconds:
        t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=args.expire_seconds)
        status["expirationTimestamp"] = t.strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.log:
        with open(args.log, "a") as f:
            f.write("%s %s\n" % (datetime.datetime.now().isoformat(), api_version))
    json.dump({"apiVersion": api_version, "kind": "ExecCredential", "status": status}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
