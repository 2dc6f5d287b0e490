import { useRef, useSyncExternalStore } from 'react';

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
  const picker = useRef<HTMLInputElement>(null);
  const camera = useRef<HTMLInputElement>(null);
  const touch = useSyncExternalStore(subscribeCoarse, coarse, () => false);

  const take = (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])];
    // Cleared so choosing the same file again (after removing it) still reports a change.
    input.value = '';
    if (files.length > 0) onFiles(files);
  };

  return (
    <span className="attach-buttons">
      <button
        type="button"
        className="button button-quiet icon-button"
        aria-label="Attach files"
        title="Attach files"
        disabled={disabled}
        onClick={() => picker.current?.click()}
      >
        <PaperclipIcon />
      </button>
      <input
        ref={picker}
        type="file"
        className="sr-only"
        tabIndex={-1}
        aria-hidden="true"
        multiple
        accept={ACCEPT}
        onChange={(e) => take(e.currentTarget)}
      />
      {touch && (
        <>
          <button
            type="button"
            className="button button-quiet icon-button"
            aria-label="Take photo"
            title="Take photo"
            disabled={disabled}
            onClick={() => camera.current?.click()}
          >
            <CameraIcon />
          </button>
          <input
            ref={camera}
            type="file"
            className="sr-only"
            tabIndex={-1}
            aria-hidden="true"
            accept="image/*"
            capture="environment"
            onChange={(e) => take(e.currentTarget)}
          />
        </>
      )}
    </span>
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
