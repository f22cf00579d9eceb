/** The help every channel shows: what Arbion understands, one example per line. */
export const HELP_TEXT = [
  'I place orders after you confirm them. Try:',
  '  buy 10 AAPL            sell half my TSLA',
  '  buy $500 of BTC        buy 5 MSFT limit 400 gtc',
  '  sell 1 AAPL put 190 May 21 2027 at 1.00',
  '  quote AAPL 190 put May 2027     chain AAPL May 2027',
  '  quote NVDA             balance',
  '  positions              orders',
  '  history                fills AAPL this week',
  '  cancel all             help',
  '  link                   (link a broker)     go live on schwab / paper mode',
  '  link chat              (use Arbion from another chat app)',
  '  run the wheel on SOFI, 2 contracts max, paper      my strategies',
  '  alert me if AAPL goes above 250     sell half my ETH if it drops under 3k',
  '  pause / resume / stop the wheel on SOFI      stop everything',
  '  backtest the wheel on SOFI for 6 months',
].join('\n');
