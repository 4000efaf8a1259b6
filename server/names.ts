// What an APP or KEY may be, for every protocol: 1-128 characters from
// A-Z a-z 0-9 _ - . , not starting with a dot and without `..`, so a name is
// also safe as a path segment (recordings) and in a URL without escaping.
const SAFE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

export function isSafeName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes('..');
}

/** APP and KEY from their URL-encoded path segments; null when either is not a safe name. */
export function decodeStreamName(rawApp: string, rawKey: string): { app: string; key: string } | null {
  let app: string;
  let key: string;
  try {
    app = decodeURIComponent(rawApp);
    key = decodeURIComponent(rawKey);
  } catch {
    return null;
  }
  return isSafeName(app) && isSafeName(key) ? { app, key } : null;
}
