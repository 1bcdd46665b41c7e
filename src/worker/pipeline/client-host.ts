/**
 * The host name a request is addressed to, as the router matches it: from the Host
 * header, lower-cased, without port and without a trailing dot (`Example.COM.:80` and
 * `example.com` are the same site). Returns '' when there is no usable host.
 */
export function hostnameOf(host: string | undefined): string {
  if (host === undefined || host === '') return '';
  let end = host.length;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    return close === -1 ? '' : host.slice(0, close + 1).toLowerCase();
  }
  const colon = host.lastIndexOf(':');
  if (colon !== -1) end = colon;
  if (host.charCodeAt(end - 1) === 0x2e /* . */) end--;
  return host.slice(0, end).toLowerCase();
}
