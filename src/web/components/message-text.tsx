import type { ReactNode } from 'react';

// http(s) only, and trailing punctuation stays outside the link, as a reader would expect.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"]+[^\s<>".,:;!?'")\]]/gi;

/**
 * A message body as text. React escapes every string it renders, so markup in a message
 * is shown, never run; only web addresses become links, and those open in a new tab that
 * cannot reach back into carechat.
 */
export function MessageText({ body }: { body: string }) {
  const parts: ReactNode[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    const url = match[0];
    const at = match.index;
    if (at > last) parts.push(body.slice(last, at));
    let safe: string | null = null;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'http:' || parsed.protocol === 'https:') safe = parsed.href;
    } catch {
      safe = null;
    }
    parts.push(
      safe ? (
        <a key={at} href={safe} target="_blank" rel="noopener noreferrer">
          {url}
        </a>
      ) : (
        url
      ),
    );
    last = at + url.length;
  }
  if (last < body.length) parts.push(body.slice(last));
  return <span className="message-text">{parts}</span>;
}
