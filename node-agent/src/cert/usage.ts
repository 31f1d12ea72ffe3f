/** Help text of `ipop cert`. */
export const CERT_USAGE = `Usage:
  ipop cert ca --network NAME [options]           make a network's CA: ca.crt and ca.key
      --name NAME          label of the CA (default: the network name)
      --duration DUR       how long it is valid, e.g. 8760h, 365d (default: 8760h)
      --pools CIDR,...     node addresses and pools must lie in these blocks (default: any)
      --groups G,...       the only groups it may grant (default: any)
      --out-crt PATH       (default: ca.crt)
      --out-key PATH       (default: ca.key; written mode 0600: keep it secret, ideally offline)
      --force              replace existing output files
  ipop cert sign --name NAME (--ip A.B.C.D/N | --pools CIDR,...) [options]
                                                  make NAME.crt and NAME.key, signed by the CA
      --groups G,...       the node's groups
      --duration DUR       e.g. 720h, 90d (default: until the CA expires; longer is cut to that)
      --ca-crt PATH        (default: ca.crt)
      --ca-key PATH        (default: ca.key)
      --out-crt PATH       (default: NAME.crt)
      --out-key PATH       (default: NAME.key)
      --force              replace existing output files
  ipop cert print [--json] FILE                   show what a certificate or revocation list says
  ipop cert verify [--ca PATH] [--network NAME] FILE
                                                  check FILE against the CA (default: ca.crt);
                                                  exit 0 when valid, 1 with the reason when not
  ipop cert revoke (--name NAME | --node-id ID)... [options]
                                                  add to the CA's revocation list and sign it again
      --crl PATH           the list file (default: ca.crl beside the CA certificate; created if missing)
      --signal URL         then publish it to the signaling server (ws:// or wss://HOST:PORT), which
                           passes it to every member and disconnects the revoked ones
      --signal-ca PATH     with a wss:// server: the PEM CA its TLS certificate must come from
                           (default: the system's CAs)
      --ca-crt PATH        (default: ca.crt)
      --ca-key PATH        (default: ca.key)
Durations: a number with s, m, h or d, combined as in 1h30m.`;

/** Help text of `ipop token`. */
export const TOKEN_USAGE = `Usage:
  ipop token create --pool CIDR [options]         make a join token; prints it on stdout
      --ttl DUR            how long the token is accepted (default: 1h)
      --prefix-length N    the overlay's prefix length for issued addresses (default: that of the CA's
                           pool holding --pool, else 16)
      --groups G,...       groups of the nodes that enroll with it
      --lease DUR          lifetime of their certificates; they renew before it ends (default: 1h)
      --ca-crt PATH        (default: ca.crt)
      --ca-key PATH        (default: ca.key)
  ipop token print [--json] TOKEN                 show what a token says
A node exchanges the token for a certificate with a free address from the pool at a signaling
server started with --ca and --ca-key. The token is a secret until it expires.`;
