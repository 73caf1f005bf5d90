/**
 * A phone or tablet: the browser says so (User-Agent Client Hints), or it has a coarse pointer
 * and a small screen. Such devices need their own opt-in before mining (heat, battery, data).
 */
export function isMobileDevice(): boolean {
  const uaData = (navigator as { userAgentData?: { mobile?: boolean } }).userAgentData;
  if (uaData?.mobile === true) return true;
  const coarse = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
  return coarse && Math.min(screen.width, screen.height) < 600;
}
