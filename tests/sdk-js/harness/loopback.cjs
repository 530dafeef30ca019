"use strict";
// Loaded with `node -r` into every SDK program the suite runs: `localhost` and `*.localhost` resolve to 127.0.0.1
// inside that process, as systemd-resolved would answer (README: "The test suite resolves names inside its own
// process and never edits system files"; tests/sdk-python does the same with socket.getaddrinfo). Every other
// name, Azure's included, goes to the system resolver untouched: in transparent mode the proxy is addressed by IP
// and the SDK never resolves Azure's names itself.

const dns = require("node:dns");

const systemLookup = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  const name = typeof hostname === "string" ? hostname.toLowerCase() : hostname;
  if (typeof name === "string" && (name === "localhost" || name.endsWith(".localhost"))) {
    return systemLookup.call(this, "127.0.0.1", options, callback);
  }
  return systemLookup.call(this, hostname, options, callback);
};
