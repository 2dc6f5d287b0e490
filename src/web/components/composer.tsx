import {
  useEffect,
  useId,
  useRef,
  useState,
  type ClipboardEvent,
  type FormEvent,
  type KeyboardEvent,
} from 'react';
import { fieldProblem, hasVisibleCharacter } from '../../shared/text.js';
import type { AttachmentWire } from '../../shared/wire.js';
import type { AttachmentDrafts } from '../lib/attachment-drafts.js';
import { AttachmentChips } from './attachment-chips.js';
import { AttachButtons } from './attach-buttons.js';

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;

export function Composer({
  recipientName,
  maxLength,
  onSend,
  onTyping,
  emergencyNote,
  disabledReason = null,
  attachments,
}: {
  /** Files chosen for the next message; held by the room so a drop anywhere on it lands here. */
  attachments: AttachmentDrafts;
  /** Set when the conversation takes no new messages: the composer is off and says why. */
  disabledReason?: string | null;
  recipientName: string;
  maxLength: number;
  onSend: (body: string, attachments: AttachmentWire[]) => void;
  onTyping: (typing: boolean) => void;
  emergencyNote: boolean;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);
  const typingSentAt = useRef(0);
  const idleTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const id = useId();
  const length = [...text].length;

  const stopTyping = () => {
    clearTimeout(idleTimer.current);
    if (typingSentAt.current) {
      typingSentAt.current = 0;
      onTyping(false);
    }
  };
  useEffect(() => () => clearTimeout(idleTimer.current), []);

  const change = (value: string) => {
    setText(value);
    setError(null);
    if (!value.trim()) return stopTyping();
    if (Date.now() - typingSentAt.current > TYPING_REPEAT_MS) {
      typingSentAt.current = Date.now();
      onTyping(true);
    }
    clearTimeout(idleTimer.current);
    idleTimer.current = setTimeout(stopTyping, TYPING_IDLE_MS);
  };

  const files = attachments.drafts.length;
  // Files alone make a message; while one is still uploading (or failed) it cannot go yet.
  const canSend =
    disabledReason === null &&
    attachments.ready !== null &&
    (hasVisibleCharacter(text) || files > 0);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (!canSend || !attachments.ready) return;
    if ([...body].length > maxLength) {
      setError(
        `This message is too long. Please keep it under ${maxLength.toLocaleString()} characters.`,
      );
      return;
    }
    // Control characters (from a paste, say) would be refused by the server: say so here.
    const problem = body ? fieldProblem('message', body) : undefined;
    if (problem) return setError(`${problem}. Please remove it and send again.`);
    onSend(files > 0 && !hasVisibleCharacter(body) ? '' : body, attachments.ready);
    attachments.clear();
    setText('');
    stopTyping();
    // The window stays open and ready for the next message.
    ref.current?.focus();
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  // A screenshot or a copied photo pasted into the message box becomes an attachment.
  const onPaste = (e: ClipboardEvent<HTMLTextAreaElement>) => {
    const pasted = [...e.clipboardData.files];
    if (pasted.length === 0 || disabledReason) return;
    e.preventDefault();
    attachments.add(pasted);
  };

  return (
    <form className="composer" onSubmit={submit}>
      {emergencyNote && (
        <p className="emergency-note" id={`${id}-note`}>
          <strong>Messages are not for emergencies.</strong> If you need urgent help, call your
          local emergency number.
        </p>
      )}
      <AttachmentChips drafts={attachments} />
      <div className="composer-row">
        <AttachButtons disabled={disabledReason !== null} onFiles={attachments.add} />
        <label htmlFor={`${id}-text`} className="sr-only">
          Message to {recipientName}
        </label>
        <textarea
          id={`${id}-text`}
          ref={ref}
          rows={2}
          value={text}
          disabled={disabledReason !== null}
          placeholder={disabledReason ?? `Write to ${recipientName}…`}
          onChange={(e) => change(e.target.value)}
          onKeyDown={onKeyDown}
          onPaste={onPaste}
          onBlur={stopTyping}
          aria-describedby={`${id}-help${emergencyNote ? ` ${id}-note` : ''}`}
          aria-invalid={error ? true : undefined}
        />
        <button type="submit" className="button button-primary send-button" disabled={!canSend}>
          Send
        </button>
      </div>
      <p className="hint composer-help" id={`${id}-help`}>
        {disabledReason ??
          (files > 0 && attachments.ready === null
            ? 'Sending is possible once every file has uploaded (or been removed)'
            : 'Enter sends · Shift+Enter starts a new line')}
        {length > maxLength * 0.9 && (
          <span className={length > maxLength ? 'over' : ''}>
            {' '}
            · {length.toLocaleString()} / {maxLength.toLocaleString()}
          </span>
        )}
      </p>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}
