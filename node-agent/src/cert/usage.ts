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
  ipop cert print [--json] FILE                   show what a certificate says
  ipop cert verify [--ca PATH] [--network NAME] FILE
                                                  check FILE against the CA (default: ca.crt);
                                                  exit 0 when valid, 1 with the reason when not
Durations: a number with s, m, h or d, combined as in 1h30m.`;
