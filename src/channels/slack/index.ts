/** The Slack channel: `createSlackChannel(options)` and what its callers need. */
export {
  createSlackChannel,
  SLACK_EVENTS_PATH,
  SlackCallError,
  SlackChannel,
  type SlackChannelOptions,
} from './slack-channel.js';
