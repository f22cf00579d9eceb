/**
 * Server-rendered pages of the linking site: eta templates in web-linking/views behind
 * @fastify/view, one typed entry point per page, and the small helpers templates use.
 *
 * Templates escape everything (`<%= %>`, eta's autoEscape). Raw output (`<%~ %>`) is allowed for
 * three things only, all produced here or by eta: `include(...)` of a partial, the layout's
 * `it.body`, and `it.h.icon(...)`. tests/unit/web-views.test.ts enforces that rule.
 *
 * Formatting (dates, statuses) lives in these helpers rather than in templates so it is typed and
 * testable with plain values. Dates are shown in UTC; static/app.js re-renders absolute dates in
 * the browser's time zone when JavaScript runs.
 */
import path from 'node:path';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import feather, { type FeatherIconNames } from 'feather-icons';
import { projectRoot } from '../../src/core/paths.js';
import type {
  ConnectionsPage,
  ConnectionView,
  ErrorPage,
  KeysFormPage,
  LinkContinuePage,
  NoticePage,
  OAuth1VerifierPage,
  Viewer,
} from '../views/models.js';

/** The templates; resolved from the project root so it works from src/ and dist/ alike. */
export const viewsDirectory = path.join(projectRoot, 'web-linking', 'views');

/** Every page and the model it renders. */
export interface PageModels {
  connections: ConnectionsPage;
  'link-continue': LinkContinuePage;
  'keys-form': KeysFormPage;
  'oauth1-verifier': OAuth1VerifierPage;
  error: ErrorPage;
  notice: NoticePage;
}

export type PageName = keyof PageModels;

export type IconName = FeatherIconNames;

/**
 * A Feather icon as inline SVG, hidden from screen readers (the text next to it says what it
 * means). `classes` come from templates, never from users.
 */
export function icon(name: IconName, classes = 'h-4 w-4'): string {
  return feather.icons[name].toSvg({
    class: `shrink-0 ${classes}`,
    'aria-hidden': 'true',
    focusable: 'false',
    'stroke-width': 2,
  });
}

const PLATFORM_LABELS: Record<Viewer['platform'], string> = {
  telegram: 'Telegram',
  slack: 'Slack',
  discord: 'Discord',
  console: 'Console',
  web: 'Web',
};

export type Tone = 'success' | 'warning' | 'danger' | 'neutral' | 'info';

/** How one connection is described on its card. */
export interface ConnectionDisplay {
  statusLabel: string;
  statusTone: Tone;
  healthLabel: string;
  healthTone: Tone;
  /** Set when the refresh token runs out within two days: the date to re-link by. */
  relinkBy: string | undefined;
  /** The refresh token already ran out: only reconnecting helps. */
  signInExpired: boolean;
}

const STATUS_DISPLAY: Record<ConnectionView['status'], { label: string; tone: Tone }> = {
  active: { label: 'Connected', tone: 'success' },
  pending: { label: 'Finishing sign-in', tone: 'neutral' },
  needs_reauth: { label: 'Needs sign-in', tone: 'warning' },
  error: { label: 'Error', tone: 'danger' },
  revoked: { label: 'Revoked', tone: 'neutral' },
};

const HEALTH_DISPLAY: Record<ConnectionView['health'], { label: string; tone: Tone }> = {
  healthy: { label: 'Healthy', tone: 'success' },
  degraded: { label: 'Degraded', tone: 'warning' },
  down: { label: 'Down', tone: 'danger' },
  unknown: { label: 'Not checked yet', tone: 'neutral' },
};

const RELINK_WARNING_MS = 2 * 24 * 60 * 60 * 1000;

const dateTimeOptions: Intl.DateTimeFormatOptions = {
  timeZone: 'UTC',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
};
/** Within the current year the year is left out: "Mar 3, 14:05 UTC". */
const dateTimeFormat = new Intl.DateTimeFormat('en-US', dateTimeOptions);
const dateTimeWithYearFormat = new Intl.DateTimeFormat('en-US', { ...dateTimeOptions, year: 'numeric' });

const dayFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: 'UTC',
  year: 'numeric',
  month: 'short',
  day: 'numeric',
});

const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });

function parseDate(iso: string | undefined): Date | undefined {
  if (iso === undefined) return undefined;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** The helpers a template sees as `it.h`, bound to one rendering instant. */
export interface ViewHelpers {
  icon: typeof icon;
  /** "Mar 3, 14:05 UTC" (with the year when it is not this year); an em dash when missing or malformed. */
  dateTime(iso: string | undefined): string;
  /** "Mar 3, 2026" */
  day(iso: string | undefined): string;
  /** "in 3 hours", "5 minutes ago", "just now"; a date beyond a month. */
  relative(iso: string | undefined): string;
  /** True when the instant has passed. */
  isPast(iso: string | undefined): boolean;
  /** True when the instant is still ahead but no more than `ms` away, or already past. */
  isWithin(iso: string | undefined, ms: number): boolean;
  platformLabel(platform: Viewer['platform']): string;
  /** The first character of a name, for an avatar; whole emoji stay whole. */
  initial(name: string): string;
  connection(connection: ConnectionView): ConnectionDisplay;
  /** An external link target: http(s) URLs only, anything else becomes `about:blank`. */
  safeHref(url: string): string;
  /** A form target: a path on this site only, anything else becomes `/`. */
  safeAction(target: string): string;
}

/** Helpers for one rendering, with `now` fixed so every date on a page agrees. */
export function createViewHelpers(now: Date = new Date()): ViewHelpers {
  const dateTime = (iso: string | undefined): string => {
    const date = parseDate(iso);
    if (!date) return '—';
    const format = date.getUTCFullYear() === now.getUTCFullYear() ? dateTimeFormat : dateTimeWithYearFormat;
    return `${format.format(date)} UTC`;
  };
  const day = (iso: string | undefined): string => {
    const date = parseDate(iso);
    return date ? dayFormat.format(date) : '—';
  };
  const relative = (iso: string | undefined): string => {
    const date = parseDate(iso);
    if (!date) return '—';
    const deltaSeconds = (date.getTime() - now.getTime()) / 1000;
    const size = Math.abs(deltaSeconds);
    if (size < 45) return deltaSeconds < 0 ? 'just now' : 'in under a minute';
    if (size < 3600) return relativeFormat.format(Math.round(deltaSeconds / 60), 'minute');
    if (size < 86_400) return relativeFormat.format(Math.round(deltaSeconds / 3600), 'hour');
    if (size < 30 * 86_400) return relativeFormat.format(Math.round(deltaSeconds / 86_400), 'day');
    return `on ${day(iso)}`;
  };
  const isPast = (iso: string | undefined): boolean => {
    const date = parseDate(iso);
    return date !== undefined && date.getTime() <= now.getTime();
  };
  const isWithin = (iso: string | undefined, ms: number): boolean => {
    const date = parseDate(iso);
    return date !== undefined && date.getTime() - now.getTime() <= ms;
  };
  return {
    icon,
    dateTime,
    day,
    relative,
    isPast,
    isWithin,
    platformLabel: (platform) => PLATFORM_LABELS[platform] ?? 'Chat',
    initial: (name) => (Array.from(name.trim())[0] ?? '?').toUpperCase(),
    connection: (connection) => {
      const refreshExpiry = parseDate(connection.refreshTokenExpiresAt);
      const remaining = refreshExpiry ? refreshExpiry.getTime() - now.getTime() : undefined;
      const signInExpired = remaining !== undefined && remaining <= 0;
      const status = STATUS_DISPLAY[connection.status];
      const health = HEALTH_DISPLAY[connection.health];
      return {
        statusLabel: status.label,
        statusTone: status.tone,
        healthLabel: health.label,
        healthTone: health.tone,
        relinkBy:
          remaining !== undefined && remaining > 0 && remaining <= RELINK_WARNING_MS
            ? dateTime(connection.refreshTokenExpiresAt)
            : undefined,
        signInExpired,
      };
    },
    safeHref: (url) => {
      try {
        const parsed = new URL(url);
        return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : 'about:blank';
      } catch {
        return 'about:blank';
      }
    },
    safeAction: (target) => (/^\/(?![/\\])[^\s]*$/.test(target) ? target : '/'),
  };
}

/** What a template receives: the page's model plus `h`. */
type TemplateData<P extends PageName> = PageModels[P] & { h: ViewHelpers };

function templateData<P extends PageName>(model: PageModels[P], now?: Date): TemplateData<P> {
  return { ...model, h: createViewHelpers(now) };
}

export interface ViewsPluginOptions {
  /** Cache compiled templates. Default: NODE_ENV === 'production'. */
  production?: boolean;
}

/**
 * Registers @fastify/view with eta on web-linking/views. Register it before the security plugin,
 * whose error pages render through it.
 */
export const viewsPlugin = fp<ViewsPluginOptions>(
  async (app, options) => {
    const eta = new Eta({ views: viewsDirectory, autoEscape: true, autoTrim: [false, 'nl'] });
    await app.register(fastifyView, {
      engine: { eta },
      root: viewsDirectory,
      production: options.production ?? process.env.NODE_ENV === 'production',
    });
  },
  { name: 'arbion-views', fastify: '5.x' },
);

/** Renders `page` as the reply (text/html). `return renderPage(reply, ...)` from a handler. */
export async function renderPage<P extends PageName>(
  reply: FastifyReply,
  page: P,
  model: PageModels[P],
): Promise<FastifyReply> {
  const html = await reply.viewAsync(page, templateData(model));
  return reply.type('text/html; charset=utf-8').send(html);
}

/** Renders `page` to a string: for tests and previews. `now` fixes relative dates. */
export async function renderPageToString<P extends PageName>(
  app: FastifyInstance,
  page: P,
  model: PageModels[P],
  now?: Date,
): Promise<string> {
  return app.view(page, templateData(model, now));
}
