import type { HealthChange } from '#lib/ports/notifier.ts';
import { describeHealthChange } from './health-message.ts';

/** Slack's `mrkdwn` treats these three as markup; an export name must not inject a link. */
const escapeMrkdwn = (text: string): string =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');

/**
 * A Slack-compatible message (`text` for notifications and clients without blocks, `blocks` for the
 * layout), so a Slack incoming webhook can be used as is; other receivers read `text`. Email-free:
 * the reason is masked, nothing else carries contact data.
 */
export const webhookBody = (change: HealthChange, consoleUrl?: string): string => {
  const { headline, lines, link } = describeHealthChange(change, consoleUrl);
  const linked = link.startsWith('http')
    ? `<${link}|Open run ${escapeMrkdwn(change.run.id)}>`
    : `Run ${escapeMrkdwn(link)}`;
  return JSON.stringify({
    text: `${headline}. ${lines.slice(0, -1).join(' ')}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${escapeMrkdwn(headline)}*` } },
      { type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(lines.slice(0, -1).join('\n')) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: linked }] },
    ],
  });
};
