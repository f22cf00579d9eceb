/**
 * Tailwind for the linking site, built offline by scripts/build-web.mjs into dist/static/app.css.
 * Colours follow a dark trading-terminal palette; fonts are the system stack (no web fonts).
 * @type {import('tailwindcss').Config}
 */
const path = require('node:path');

module.exports = {
  content: [path.join(__dirname, 'views/**/*.eta'), path.join(__dirname, 'static/**/*.js')],
  // Tone classes are composed in templates (`badge-<%= tone %>`), so the scanner cannot see them.
  safelist: [{ pattern: /^(badge|dot|callout)-(success|warning|danger|neutral|info|error|live|paper)$/ }],
  theme: {
    extend: {
      colors: {
        canvas: '#0b0e11',
        surface: '#12161c',
        panel: '#1a1f26',
        raised: '#20262e',
        line: '#2a313a',
        ink: '#e6e8ea',
        muted: '#8a939f',
        accent: { DEFAULT: '#1652f0', hover: '#3b6cf4', soft: '#7fa2ff' },
        success: '#05b169',
        danger: '#df5f67',
        warning: '#f0a23b',
      },
      fontFamily: {
        sans: [
          'system-ui',
          '-apple-system',
          '"Segoe UI"',
          'Roboto',
          '"Helvetica Neue"',
          '"Liberation Sans"',
          'Arial',
          'sans-serif',
        ],
        mono: ['ui-monospace', 'SFMono-Regular', 'Menlo', 'Consolas', '"Liberation Mono"', 'monospace'],
      },
      maxWidth: { page: '960px' },
    },
  },
  plugins: [],
};
