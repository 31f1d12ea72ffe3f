// `ipop --help`: the agent's commands and options, and the bounds the help text states.
import { MAX_DATA_PAYLOAD_BYTES } from "@ipop/shared";
import { DEFAULT_PING_COUNT, UNTIL_DIRECT_COUNT } from "./ping.js";

/** MTU bounds: IPv4's minimum reassembly size, and the largest packet a data frame carries. */
export const MIN_MTU = 576;
export const MAX_MTU = MAX_DATA_PAYLOAD_BYTES;

export const USAGE = `Usage:
  ipop up --signal ws://HOST:PORT --ca ca.crt --cert NAME.crt --key NAME.key [options]   (root)
      --signal URL         ws://HOST:PORT, or wss://HOST:PORT for a server with TLS (ipop-signal --tls-cert);
                           several, separated by commas, for servers sharing one network (ipop-signal
                           --redis): the agent moves to the next when one fails
      --signal-ca FILE     with wss://: the PEM CA certificate the server's TLS certificate must come from
                           (default: the system's CAs, as for any https:// site)
      --network NAME       the network to join (default: the certificate's; must match it)
      --ip A.B.C.D/N       the virtual address (default: the certificate's; must match it)
      --name NAME          must be the certificate's name, if given
      --crl FILE           the network's revocation list to start with (ipop cert revoke)
  ipop up --signal ws://HOST:PORT --token-file FILE [--name NAME] [options]       (root)
      joins with a token from \`ipop token create\` (or in the environment as IPOP_TOKEN) instead of
      certificate files: the signaling server (ipop-signal --ca-key) issues a short-lived certificate
      with an address from the token's pool, and the agent renews it while it runs; --name defaults
      to this host's name
      --dev DEV            TUN device name (default: ipop0)
      --webrtc BACKEND     ndc (default) | werift | wrtc
      --mtu BYTES          TUN and overlay MTU, ${MIN_MTU}-${MAX_MTU} (default: 1400)
      --ice-server URL     STUN/TURN server, repeatable (default: none, host candidates only);
                           no credentials in it: TURN ones come from --turn-credentials-file
      --turn-credentials-file FILE
                           JSON {"username","credential"} for the TURN servers (or the
                           environment: IPOP_TURN_USERNAME, IPOP_TURN_CREDENTIAL)
      --max-links N        most links this node opens, 8-1000 (default: 40; ring neighbours always)
      --multicast on|off   broadcast and multicast (224.0.0.0/4, e.g. mDNS) to every member, with a
                           route for 224.0.0.0/4 on the device (default: on; docs/multicast.md)
      --operator-group G   certificate group whose members may read this node's status over the
                           overlay (the web console; default: ops)
      --log-level LEVEL    fatal|error|warn|info|debug|trace (default: info)
      --metrics HOST:PORT  serve Prometheus metrics at http://HOST:PORT/metrics (default: off;
                           docs/metrics.md); IPv6 as [::1]:PORT
      --dns on|off         answer DNS for NAME.NETWORK.ipop on the virtual IP, port 53 (default: on;
                           docs/dns.md)
      --config FILE        every option above from a JSON file (docs/config.md); flags override it
  ipop status [IP|NAME] [--json] [--dev DEV]   this agent; with a node, only the link to it
  ipop route IP|NAME [--json] [--dev DEV]      the overlay path a packet to a node takes
  ipop ping IP|NAME [--count N] [--until-direct] [--json] [--dev DEV]
      overlay pings: the path each reply took (direct link or through which nodes) and its RTT;
      ${DEFAULT_PING_COUNT} pings a second apart by default; --until-direct pings 5 a second (at most --count,
      default ${UNTIL_DIRECT_COUNT}) until one goes over a direct link, which that traffic makes the overlay set up
  ipop down [--dev DEV]                   stop the running agent as SIGTERM does (peers told, TUN removed)
  ipop netcheck --ice-server stun:HOST:PORT ... [--json]   this host's NAT: mapping, filtering, public
                                          address, which STUN/TURN servers answered and how fast
  ipop cert ca|sign|print|verify|revoke ...  network certificates (ipop cert --help)
  ipop token create|print ...             join tokens for nodes without a certificate (ipop token --help)
  ipop --help | --version`;
