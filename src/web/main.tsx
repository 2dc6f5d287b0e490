import { createRoot } from 'react-dom/client';
import { StrictMode } from 'react';
import { App } from './app.js';
import './styles.css';
import { registerServiceWorker } from './lib/push.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// Installable app, Web Push and the offline page; the app itself works without it.
void registerServiceWorker();
