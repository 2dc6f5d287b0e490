import type { MessageWire } from '../../shared/wire.js';
import { formatTime } from '../lib/format.js';
import type { Outgoing } from '../live/outbox.js';
import { MessageAttachments } from './message-attachments.js';
import { MessageText } from './message-text.js';

export type Receipt = 'sent' | 'delivered' | 'read';

const RECEIPT_LABEL: Record<Receipt, string> = {
  sent: 'Sent',
  delivered: 'Delivered',
  read: 'Read',
};

export function MessageItem({
  message,
  mine,
  senderName,
  receipt,
}: {
  message: MessageWire;
  mine: boolean;
  senderName: string;
  receipt: Receipt | null;
}) {
  return (
    <li className={`msg ${mine ? 'msg-mine' : 'msg-theirs'}`} data-seq={message.seq}>
      <div className="bubble">
        <span className="sr-only">{mine ? 'You' : senderName}: </span>
        {message.deletedAt ? (
          <em className="muted">This message was deleted.</em>
        ) : (
          message.body && <MessageText body={message.body} />
        )}
        {message.attachments && message.attachments.length > 0 && (
          <MessageAttachments attachments={message.attachments} />
        )}
      </div>
      <div className="msg-meta">
        <time dateTime={message.createdAt}>{formatTime(message.createdAt)}</time>
        {message.editedAt && !message.deletedAt && <span> · edited</span>}
        {receipt && (
          <span className={`receipt receipt-${receipt}`}>
            <span aria-hidden="true">{receipt === 'sent' ? ' ✓ ' : ' ✓✓ '}</span>
            <span>{RECEIPT_LABEL[receipt]}</span>
          </span>
        )}
      </div>
    </li>
  );
}

export function OutgoingItem({
  item,
  onRetry,
  onDiscard,
}: {
  item: Outgoing;
  onRetry: () => void;
  onDiscard: () => void;
}) {
  return (
    <li className={`msg msg-mine msg-${item.state}`}>
      <div className="bubble">
        <span className="sr-only">You: </span>
        {item.body && <MessageText body={item.body} />}
        {item.attachments.length > 0 && (
          <p className="muted">
            {item.attachments.length === 1 ? '1 file' : `${item.attachments.length} files`}
          </p>
        )}
      </div>
      <div className="msg-meta">
        {item.state === 'failed' ? (
          <span className="msg-failed-row" role="alert">
            <span className="failed-label">Not sent{item.error ? `: ${item.error}` : ''}</span>
            <button type="button" className="link-button" onClick={onRetry}>
              Retry
            </button>
            <button
              type="button"
              className="link-button"
              onClick={onDiscard}
              aria-label="Delete this unsent message"
            >
              Delete
            </button>
          </span>
        ) : item.state === 'queued' ? (
          <span>
            <span aria-hidden="true">🕓 </span>Waiting for connection…
          </span>
        ) : (
          <span>
            <span aria-hidden="true">🕓 </span>Sending…
          </span>
        )}
      </div>
    </li>
  );
}
