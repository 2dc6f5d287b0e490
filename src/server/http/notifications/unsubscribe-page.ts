/**
 * The two small pages of the unsubscribe link, served outside the web app (no session,
 * no script): the CSP allows a form that posts to this origin and nothing else.
 */
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escape(title)}</title></head>
<body>
<h1>${escape(title)}</h1>
${body}
</body>
</html>
`;
}

export function unsubscribePage(userId: string, signature: string): string {
  const action = `/api/notifications/unsubscribe?u=${encodeURIComponent(userId)}&s=${encodeURIComponent(signature)}`;
  return page(
    'Stop e-mail notifications?',
    `<p>You will no longer get an e-mail when a secure message waits for you. You can turn them on again in the app under Notifications.</p>
<form method="post" action="${escape(action)}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Turn off e-mail notifications</button>
</form>`,
  );
}

export function unsubscribedPage(): string {
  return page(
    'E-mail notifications are off',
    '<p>You will no longer get e-mails about new secure messages. You can turn them on again in the app under Notifications.</p>',
  );
}
