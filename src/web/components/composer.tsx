import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { fieldProblem, hasVisibleCharacter } from '../../shared/text.js';

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;

export function Composer({
  recipientName,
  maxLength,
  onSend,
  onTyping,
  emergencyNote,
  disabledReason = null,
}: {
  /** Set when the conversation takes no new messages: the composer is off and says why. */
  disabledReason?: string | null;
  recipientName: string;
  maxLength: number;
  onSend: (body: string) => void;
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

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    const body = text.trim();
    if (!hasVisibleCharacter(body) || disabledReason) return;
    if ([...body].length > maxLength) {
      setError(
        `This message is too long. Please keep it under ${maxLength.toLocaleString()} characters.`,
      );
      return;
    }
    // Control characters (from a paste, say) would be refused by the server: say so here.
    const problem = fieldProblem('message', body);
    if (problem) return setError(`${problem}. Please remove it and send again.`);
    onSend(body);
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

  return (
    <form className="composer" onSubmit={submit}>
      {emergencyNote && (
        <p className="emergency-note" id={`${id}-note`}>
          <strong>Messages are not for emergencies.</strong> If you need urgent help, call your
          local emergency number.
        </p>
      )}
      <div className="composer-row">
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
          onBlur={stopTyping}
          aria-describedby={`${id}-help${emergencyNote ? ` ${id}-note` : ''}`}
          aria-invalid={error ? true : undefined}
        />
        <button
          type="submit"
          className="button button-primary send-button"
          disabled={!hasVisibleCharacter(text) || disabledReason !== null}
        >
          Send
        </button>
      </div>
      <p className="hint composer-help" id={`${id}-help`}>
        {disabledReason ?? 'Enter sends · Shift+Enter starts a new line'}
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
