// The system Chromium is used (no network for puppeteer's own browser download).
module.exports = { skipDownload: true };
