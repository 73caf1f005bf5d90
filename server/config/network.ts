import { parseCidrList } from '../cidr.js';
import { wholeNumber } from './whole-number.js';

/**
 * Network hardening settings (issue 13 items 3 and 4): HTTP timeouts and the per-address cap on
 * HTTP connections (against Slowloris), and the load balancers whose word on the client's address
 * is believed (X-Forwarded-For on HTTP/WebSocket, the PROXY protocol on Stratum TCP).
 */
export interface NetworkConfig {
  /** CIDRs of load balancers: only their X-Forwarded-For and PROXY headers are believed. */
  trustedProxy: string[];
  /** A request's headers must all arrive within this (Slowloris). */
  httpHeadersTimeoutMs: number;
  /** A whole request, body included, must arrive within this. */
  httpRequestTimeoutMs: number;
  /** An HTTP socket with nothing happening (between requests, or a stalled answer) is closed after this. */
  httpIdleTimeoutMs: number;
  /** A kept-alive HTTP connection waits this long for its next request. */
  httpKeepAliveTimeoutMs: number;
  /** Open connections to the HTTP port per client key (WebSocket miners included), counted before any request. */
  maxHttpConnectionsPerIp: number;
  /** A trusted proxy's Stratum TCP connection must send its PROXY header within this. */
  proxyHeaderTimeoutMs: number;
}

export const NETWORK_DEFAULTS: NetworkConfig = {
  trustedProxy: [],
  httpHeadersTimeoutMs: 10_000,
  httpRequestTimeoutMs: 30_000,
  httpIdleTimeoutMs: 60_000,
  httpKeepAliveTimeoutMs: 5_000,
  // Above the Stratum per-address cap (256): a NAT farm of browser miners also loads the page.
  maxHttpConnectionsPerIp: 300,
  proxyHeaderTimeoutMs: 5_000,
};

const int = wholeNumber;

export const NETWORK_SETTINGS: { key: keyof NetworkConfig; flag: string; parse: (text: string) => unknown; help: string; repeatable?: true }[] = [
  { key: 'trustedProxy', flag: 'trusted-proxy', parse: parseCidrList, repeatable: true, help: 'CIDRs of load balancers (comma-separated or repeated) whose X-Forwarded-For (HTTP/WebSocket) and PROXY v1/v2 header (Stratum TCP, then required) name the client' },
  { key: 'httpHeadersTimeoutMs', flag: 'http-headers-timeout-ms', parse: int(100, 600_000), help: 'a request must send all its headers within this (Slowloris)' },
  { key: 'httpRequestTimeoutMs', flag: 'http-request-timeout-ms', parse: int(100, 3_600_000), help: 'a request must arrive whole, body included, within this' },
  { key: 'httpIdleTimeoutMs', flag: 'http-idle-timeout-ms', parse: int(100, 3_600_000), help: 'close an HTTP socket idle this long (not WebSocket miners)' },
  { key: 'httpKeepAliveTimeoutMs', flag: 'http-keepalive-ms', parse: int(100, 600_000), help: 'a kept-alive HTTP connection waits this long for its next request' },
  { key: 'maxHttpConnectionsPerIp', flag: 'http-connections-per-ip', parse: int(1, 1_000_000), help: 'open HTTP-port connections per address (IPv6: per /64), WebSocket miners included; the rest are closed at once' },
  { key: 'proxyHeaderTimeoutMs', flag: 'proxy-header-timeout-ms', parse: int(100, 60_000), help: 'a trusted proxy must send its PROXY header within this' },
];
