import { type ReactNode, useRef, useSyncExternalStore } from 'react';

/** What the picker offers: photos and PDFs. The server checks the bytes whatever is chosen. */
const ACCEPT = 'image/*,application/pdf';

const coarse = () => window.matchMedia('(pointer: coarse)').matches;
const subscribeCoarse = (onChange: () => void) => {
  const query = window.matchMedia('(pointer: coarse)');
  query.addEventListener('change', onChange);
  return () => query.removeEventListener('change', onChange);
};

/**
 * The paperclip, and on a touch screen a camera button that opens the back camera
 * directly (`capture`), so a photo of a rash or a prescription is one tap away.
 */
export function AttachButtons({
  disabled,
  onFiles,
}: {
  disabled: boolean;
  onFiles: (files: File[]) => void;
}) {
  const touch = useSyncExternalStore(subscribeCoarse, coarse, () => false);
  return (
    <span className="attach-buttons">
      <PickerButton
        label="Attach files"
        disabled={disabled}
        onFiles={onFiles}
        multiple
        accept={ACCEPT}
      >
        <PaperclipIcon />
      </PickerButton>
      {touch && (
        <PickerButton
          label="Take photo"
          disabled={disabled}
          onFiles={onFiles}
          accept="image/*"
          capture="environment"
        >
          <CameraIcon />
        </PickerButton>
      )}
    </span>
  );
}

/** An icon button that opens a hidden file input, which screen readers skip for the button. */
function PickerButton({
  label,
  disabled,
  onFiles,
  children,
  ...input
}: {
  label: string;
  disabled: boolean;
  onFiles: (files: File[]) => void;
  children: ReactNode;
  accept: string;
  multiple?: boolean;
  capture?: 'environment';
}) {
  const ref = useRef<HTMLInputElement>(null);
  const take = (el: HTMLInputElement) => {
    const files = [...(el.files ?? [])];
    // Cleared so choosing the same file again (after removing it) still reports a change.
    el.value = '';
    if (files.length > 0) onFiles(files);
  };
  return (
    <>
      <button
        type="button"
        className="button button-quiet icon-button"
        aria-label={label}
        title={label}
        disabled={disabled}
        onClick={() => ref.current?.click()}
      >
        {children}
      </button>
      <input
        ref={ref}
        type="file"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        {...input}
        onChange={(e) => take(e.currentTarget)}
      />
    </>
  );
}

// Drawn, not emoji: phones and kiosks without an emoji font would show an empty box.
function PaperclipIcon() {
  return (
    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      <path
        d="M16.5 6.5v10a4.5 4.5 0 0 1-9 0V5a3 3 0 0 1 6 0v10.5a1.5 1.5 0 0 1-3 0V6.5"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
      />
    </svg>
  );
}

function CameraIcon() {
  return (
    <svg viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">
      <path
        d="M4 8h3l2-2.5h6L17 8h3v11H4z"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinejoin="round"
      />
      <circle cx="12" cy="13.5" r="3.5" fill="none" stroke="currentColor" strokeWidth="1.8" />
    </svg>
  );
}
