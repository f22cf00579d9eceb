/**
 * Widely traded US-listed ETFs (and two exchange-traded notes people treat as ETFs), written by hand.
 * One row per ticker: [ticker, fund name, hand-written aliases?].
 */

export type EtfRow = readonly [symbol: string, name: string, aliases?: readonly string[]];

export const ETF_ROWS: readonly EtfRow[] = [
  // Broad US equity
  ['SPY', 'SPDR S&P 500 ETF Trust'],
  ['IVV', 'iShares Core S&P 500 ETF'],
  ['VOO', 'Vanguard S&P 500 ETF'],
  ['SPLG', 'SPDR Portfolio S&P 500 ETF'],
  ['RSP', 'Invesco S&P 500 Equal Weight ETF'],
  ['QQQ', 'Invesco QQQ Trust'],
  ['QQQM', 'Invesco NASDAQ 100 ETF'],
  ['DIA', 'SPDR Dow Jones Industrial Average ETF Trust'],
  ['IWM', 'iShares Russell 2000 ETF'],
  ['VTI', 'Vanguard Total Stock Market ETF'],
  ['ITOT', 'iShares Core S&P Total U.S. Stock Market ETF'],
  ['IJH', 'iShares Core S&P Mid-Cap ETF'],
  ['IJR', 'iShares Core S&P Small-Cap ETF'],
  ['MDY', 'SPDR S&P MidCap 400 ETF Trust'],
  ['VB', 'Vanguard Small-Cap ETF'],
  ['VO', 'Vanguard Mid-Cap ETF'],
  ['VUG', 'Vanguard Growth ETF'],
  ['VTV', 'Vanguard Value ETF'],
  ['IWF', 'iShares Russell 1000 Growth ETF'],
  ['IWD', 'iShares Russell 1000 Value ETF'],
  ['SCHX', 'Schwab U.S. Large-Cap ETF'],
  ['SCHG', 'Schwab U.S. Large-Cap Growth ETF'],
  ['MTUM', 'iShares MSCI USA Momentum Factor ETF'],
  ['USMV', 'iShares MSCI USA Min Vol Factor ETF'],
  ['QUAL', 'iShares MSCI USA Quality Factor ETF'],

  // Dividends and income
  ['VIG', 'Vanguard Dividend Appreciation ETF'],
  ['SCHD', 'Schwab U.S. Dividend Equity ETF'],
  ['VYM', 'Vanguard High Dividend Yield ETF'],
  ['DVY', 'iShares Select Dividend ETF'],
  ['JEPI', 'JPMorgan Equity Premium Income ETF'],
  ['JEPQ', 'JPMorgan Nasdaq Equity Premium Income ETF'],

  // International
  ['VEA', 'Vanguard FTSE Developed Markets ETF'],
  ['VWO', 'Vanguard FTSE Emerging Markets ETF'],
  ['VXUS', 'Vanguard Total International Stock ETF'],
  ['VT', 'Vanguard Total World Stock ETF'],
  ['EFA', 'iShares MSCI EAFE ETF'],
  ['EEM', 'iShares MSCI Emerging Markets ETF'],
  ['IEMG', 'iShares Core MSCI Emerging Markets ETF'],
  ['IEFA', 'iShares Core MSCI EAFE ETF'],
  ['EWJ', 'iShares MSCI Japan ETF'],
  ['FXI', 'iShares China Large-Cap ETF'],
  ['KWEB', 'KraneShares CSI China Internet ETF'],

  // Bonds and cash
  ['AGG', 'iShares Core U.S. Aggregate Bond ETF'],
  ['BND', 'Vanguard Total Bond Market ETF'],
  ['BNDX', 'Vanguard Total International Bond ETF'],
  ['TLT', 'iShares 20+ Year Treasury Bond ETF'],
  ['IEF', 'iShares 7-10 Year Treasury Bond ETF'],
  ['SHY', 'iShares 1-3 Year Treasury Bond ETF'],
  ['TIP', 'iShares TIPS Bond ETF'],
  ['LQD', 'iShares iBoxx $ Investment Grade Corporate Bond ETF'],
  ['HYG', 'iShares iBoxx $ High Yield Corporate Bond ETF'],
  ['JNK', 'SPDR Bloomberg High Yield Bond ETF'],
  ['BIL', 'SPDR Bloomberg 1-3 Month T-Bill ETF'],
  ['SGOV', 'iShares 0-3 Month Treasury Bond ETF'],

  // Commodities
  ['GLD', 'SPDR Gold Shares'],
  ['IAU', 'iShares Gold Trust'],
  ['SLV', 'iShares Silver Trust'],
  ['USO', 'United States Oil Fund'],
  ['UNG', 'United States Natural Gas Fund'],
  ['GDX', 'VanEck Gold Miners ETF'],
  ['GDXJ', 'VanEck Junior Gold Miners ETF'],

  // Sectors and industries
  ['XLB', 'Materials Select Sector SPDR Fund'],
  ['XLC', 'Communication Services Select Sector SPDR Fund'],
  ['XLE', 'Energy Select Sector SPDR Fund'],
  ['XLF', 'Financial Select Sector SPDR Fund'],
  ['XLI', 'Industrial Select Sector SPDR Fund'],
  ['XLK', 'Technology Select Sector SPDR Fund'],
  ['XLP', 'Consumer Staples Select Sector SPDR Fund'],
  ['XLRE', 'Real Estate Select Sector SPDR Fund'],
  ['XLU', 'Utilities Select Sector SPDR Fund'],
  ['XLV', 'Health Care Select Sector SPDR Fund'],
  ['XLY', 'Consumer Discretionary Select Sector SPDR Fund'],
  ['VGT', 'Vanguard Information Technology ETF'],
  ['VNQ', 'Vanguard Real Estate ETF'],
  ['SOXX', 'iShares Semiconductor ETF'],
  ['SMH', 'VanEck Semiconductor ETF'],
  ['KRE', 'SPDR S&P Regional Banking ETF'],
  ['XBI', 'SPDR S&P Biotech ETF'],
  ['XOP', 'SPDR S&P Oil & Gas Exploration & Production ETF'],
  ['XRT', 'SPDR S&P Retail ETF'],
  ['ITB', 'iShares U.S. Home Construction ETF'],
  ['ARKK', 'ARK Innovation ETF'],

  // Leveraged, inverse and volatility
  ['TQQQ', 'ProShares UltraPro QQQ'],
  ['SQQQ', 'ProShares UltraPro Short QQQ'],
  ['SPXL', 'Direxion Daily S&P 500 Bull 3X Shares'],
  ['SOXL', 'Direxion Daily Semiconductor Bull 3X Shares'],
  ['SOXS', 'Direxion Daily Semiconductor Bear 3X Shares'],
  ['UVXY', 'ProShares Ultra VIX Short-Term Futures ETF'],
  ['VXX', 'iPath Series B S&P 500 VIX Short-Term Futures ETN'],

  // Spot crypto
  ['IBIT', 'iShares Bitcoin Trust ETF'],
  ['FBTC', 'Fidelity Wise Origin Bitcoin Fund'],
  ['GBTC', 'Grayscale Bitcoin Trust ETF'],
  ['BITO', 'ProShares Bitcoin Strategy ETF'],
  ['ETHA', 'iShares Ethereum Trust ETF'],
  ['ETHE', 'Grayscale Ethereum Trust ETF'],
];
