/**
 * Every action the audit trail records: a closed list, so a row cannot be written under a
 * misspelt or invented name, and the admin area can offer the list as a filter.
 */
export const AUDIT_ACTIONS = [
  // Sign-in and sessions
  'auth.login',
  'auth.login_failed',
  'auth.login_throttled',
  'auth.logout',
  'auth.session_expired',
  // Accounts
  'user.create',
  'user.update',
  'user.disable',
  'user.enable',
  'user.password_reset',
  'user.list',
  // Appointments (reasons are health information: reading them is recorded)
  'appointment.request',
  'appointment.accept',
  'appointment.decline',
  'appointment.cancel',
  'appointment.list',
  'appointment.read',
  // Conversations
  'room.open',
  'room.close',
  'room.reopen',
  'room.list',
  'room.view',
  'room.archive',
  'room.unarchive',
  'room.read_messages',
  'room.admin_list',
  'message.send',
  'attachment.upload',
  'attachment.read',
  'dashboard.read_recent_messages',
  'realtime.connect',
  // Outbox (the admin's retries of events)
  'outbox.retry',
  'outbox.retry_dead',
  // Notifications (the user's own choices; an unsubscribe link from an e-mail)
  'notification.preferences_update',
  'notification.unsubscribe',
  // The trail itself
  'audit.read',
  'audit.export',
  'audit.verify',
  'audit.checkpoint',
  'audit.chain_reset',
  // Refusals: what was asked, never what was sent
  'access.denied',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];
