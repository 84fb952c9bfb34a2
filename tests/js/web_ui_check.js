#!/usr/bin/env node
// Drives Lookalike's web page (GET /) in headless Chromium like a shopper would: uploads a photo
// through the file input, expects a given product first, opens it, goes back with Escape, asks
// for "More like this", runs a text query, applies filters, shows an API error, and opens the
// Swagger UI at /docs. Any console error, page error, failed request or unexpected HTTP error
// fails the check.
//
//   node web_ui_check.js --url http://127.0.0.1:8008 --image query.jpg \
//        --expect-external-id p7_3 --screenshot out/web_ui.png [--timeout-ms 30000] [--api-key K]
//
// With --api-key (a server started with LOOKALIKE_SEARCH_API_KEY=K) the check first expects a
// search without a key to show the API's 401, then enters the key in the page's "API key" field.
//
// Exit 0 and one JSON line on stdout when everything holds; otherwise exit 1 with the reason on
// stderr. Chromium is /usr/bin/chromium (Debian's) unless LOOKALIKE_CHROMIUM names another.
'use strict';

const fs = require('fs');
const path = require('path');
const {chromium} = require('playwright-core');

function parseArgs(argv) {
  const args = {timeoutMs: 30000};
  const names = {
    '--url': 'url',
    '--image': 'image',
    '--expect-external-id': 'expectExternalId',
    '--screenshot': 'screenshot',
    '--timeout-ms': 'timeoutMs',
    '--api-key': 'apiKey',
  };
  for (let i = 0; i < argv.length; i++) {
    const name = names[argv[i]];
    if (!name || i + 1 >= argv.length) throw new Error(`unknown or incomplete argument ${argv[i]}`);
    args[name] = argv[++i];
  }
  for (const required of ['url', 'image', 'expectExternalId', 'screenshot']) {
    if (!args[required]) throw new Error(`--${required.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is required`);
  }
  args.timeoutMs = Number(args.timeoutMs);
  args.url = args.url.replace(/\/+$/, '');
  return args;
}

class CheckFailure extends Error {}

function expect(condition, message) {
  if (!condition) throw new CheckFailure(message);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  expect(fs.existsSync(args.image), `no such image: ${args.image}`);
  fs.mkdirSync(path.dirname(path.resolve(args.screenshot)), {recursive: true});
  const screenshotAlso = (suffix) => args.screenshot.replace(/(\.png)?$/, `-${suffix}.png`);

  const executablePath = process.env.LOOKALIKE_CHROMIUM || '/usr/bin/chromium';
  const browser = await chromium.launch({executablePath, headless: true, args: ['--no-sandbox']});
  const problems = [];  // console errors, page errors, failed requests, unexpected HTTP errors
  let allowedStatus = null;  // the one HTTP error status a step provokes on purpose
  let step = 'start';
  const summary = {};
  try {
    const context = await browser.newContext({viewport: {width: 1280, height: 900}});
    const page = await context.newPage();
    page.setDefaultTimeout(args.timeoutMs);
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      if (allowedStatus !== null && text.includes(`status of ${allowedStatus}`)) return;
      problems.push(`[${step}] console error: ${text}`);
    });
    page.on('pageerror', (err) => problems.push(`[${step}] page error: ${err.message}`));
    page.on('requestfailed', (request) => {
      const failure = request.failure();
      // A search superseded by a newer one is aborted on purpose by the page.
      if (failure && failure.errorText === 'net::ERR_ABORTED' && request.url().includes('/search/')) return;
      problems.push(`[${step}] request failed: ${request.method()} ${request.url()} ` +
                    `(${failure ? failure.errorText : 'unknown'})`);
    });
    page.on('response', (response) => {
      if (response.status() < 400 || response.status() === allowedStatus) return;
      problems.push(`[${step}] HTTP ${response.status()} for ${response.request().method()} ${response.url()}`);
    });
    const checkProblems = () => expect(problems.length === 0, problems.join('\n'));

    const cards = page.locator('[data-testid="result-card"]');
    const status = page.locator('[data-testid="status"]');
    const cardIds = () => cards.evaluateAll((all) => all.map((c) => c.dataset.externalId));
    // Runs `action` and waits for the search request it triggers and for the page to show it.
    const search = async (route, action) => {
      const answered = page.waitForResponse((r) => r.url().includes(`/api/v1/search/${route}`) &&
                                                   r.request().method() === 'POST');
      await action();
      const response = await answered;
      await page.waitForFunction(() => {
        const results = document.querySelector('[data-testid="results"]');
        return results && !results.hasAttribute('aria-busy');
      });
      return response;
    };
    // Waits for the first `limit` images matching `selector` and fails if any did not load.
    const waitImages = async (selector, what, limit = 1000) => {
      await page.waitForFunction(([sel, n]) => Array.from(document.querySelectorAll(sel)).slice(0, n)
                                                   .every((img) => img.complete), [selector, limit]);
      const loaded = await page.$$eval(selector, (imgs, n) => imgs.slice(0, n).map(
          (img) => ({src: img.getAttribute('src'), ok: img.naturalWidth > 0})), limit);
      const broken = loaded.filter((i) => !i.ok).map((i) => i.src);
      expect(broken.length === 0, `${what}: images did not load: ${broken.join(', ')}`);
      return loaded.length;
    };

    // 1. The page.
    step = 'open page';
    const response = await page.goto(args.url + '/', {waitUntil: 'load'});
    expect(response && response.ok(), `GET / answered ${response && response.status()}`);
    expect((response.headers()['content-type'] || '').startsWith('text/html'),
           `GET / is ${response.headers()['content-type']}, not text/html`);
    expect((await page.title()).includes('Lookalike'), `unexpected title "${await page.title()}"`);
    checkProblems();

    // 1b. A server that wants a key: the 401 is shown plainly, the saved key is sent.
    if (args.apiKey) {
      step = 'api key';
      allowedStatus = 401;
      await page.fill('[data-testid="text-input"]', 'anything');
      const refused = await search('by-text', () => page.press('[data-testid="text-input"]', 'Enter'));
      expect(refused.status() === 401, `a search without a key answered ${refused.status()}, expected 401`);
      const error = page.locator('[data-testid="error"]');
      await error.waitFor();
      const text = await error.innerText();
      expect(text.includes('unauthorized') && text.includes('API key'),
             `the error box does not explain the missing key: "${text}"`);
      allowedStatus = null;
      await page.click('#settings summary');
      await page.fill('[data-testid="api-key"]', args.apiKey);
      const accepted = await search('by-text', () => page.click('[data-testid="save-api-key"]'));
      expect(accepted.status() === 200, `with the key the search answered ${accepted.status()}`);
      expect(accepted.request().headers()['x-api-key'] === args.apiKey, 'the key was not sent as X-API-Key');
      expect(await error.isHidden(), 'the error box stayed after a good search');
      expect(await page.evaluate(() => localStorage.getItem('lookalike.apiKey')) === args.apiKey,
             'the key was not kept in localStorage');
      await page.fill('[data-testid="text-input"]', '');
      summary.api_key = 'checked';
      checkProblems();
    }

    // 2. A photo through the file input: the expected product comes first.
    step = 'search by photo';
    await search('by-image', () => page.setInputFiles('[data-testid="file-input"]', args.image));
    expect(await cards.count() > 0, `no results for the photo; status: "${await status.innerText()}"`);
    const ids = await cardIds();
    expect(ids[0] === args.expectExternalId,
           `first result is "${ids[0]}", expected "${args.expectExternalId}" (results: ${ids.join(', ')})`);
    const first = cards.first();
    const score = await first.locator('[data-testid="result-score"]').innerText();
    expect(/score -?\d\.\d{3}/.test(score), `first card shows no score ("${score}")`);
    const price = await first.locator('[data-testid="result-price"]').innerText();
    expect(/\d/.test(price), `first card shows no price ("${price}")`);
    // The grid's images load lazily: scroll through so all of them load (and are checked).
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await waitImages('[data-testid="result-card"] img', 'result grid');
    await page.evaluate(() => window.scrollTo(0, 0));
    expect(/\d+ results? /.test(await status.innerText()), `status does not count results: "${await status.innerText()}"`);
    expect(await page.locator('[data-testid="photo-preview"]').isVisible(), 'no preview of the photo');
    summary.photo_results = ids.length;
    summary.first = ids[0];
    summary.first_score = Number(await first.getAttribute('data-score'));
    const category = await first.getAttribute('data-category');
    await page.screenshot({path: args.screenshot, fullPage: true});
    checkProblems();

    // 2b. The same photo dropped on the drop zone, then pasted: both search by image.
    step = 'drop and paste';
    const photo = {name: path.basename(args.image), base64: fs.readFileSync(args.image).toString('base64')};
    for (const how of ['drop', 'paste']) {
      await search('by-image', () => page.evaluate(({how, photo}) => {
        const bytes = Uint8Array.from(atob(photo.base64), (c) => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], photo.name, {type: 'image/jpeg'}));
        if (how === 'drop') {
          const zone = document.querySelector('[data-testid="dropzone"]');
          zone.dispatchEvent(new DragEvent('dragenter', {bubbles: true, cancelable: true, dataTransfer: transfer}));
          zone.dispatchEvent(new DragEvent('dragover', {bubbles: true, cancelable: true, dataTransfer: transfer}));
          zone.dispatchEvent(new DragEvent('drop', {bubbles: true, cancelable: true, dataTransfer: transfer}));
        } else {
          document.body.dispatchEvent(new ClipboardEvent('paste', {bubbles: true, cancelable: true, clipboardData: transfer}));
        }
      }, {how, photo}));
      const again = await cardIds();
      expect(again[0] === args.expectExternalId, `after a ${how} the first result is "${again[0]}"`);
    }
    expect(!(await page.locator('[data-testid="dropzone"]').getAttribute('class')).includes('dragging'),
           'the drop zone still shows the dragging state after the drop');
    checkProblems();

    // 3. The product view, closed with Escape (focus goes back to the card), then reopened.
    step = 'product view';
    await first.click();
    const dialog = page.locator('[data-testid="product-view"]');
    await dialog.and(page.locator('[data-loaded="true"]')).waitFor();
    expect((await page.locator('[data-testid="product-external-id"]').innerText()) === args.expectExternalId,
           'the product view shows another product');
    const imageCount = await waitImages('[data-testid="product-image"]', 'product view');
    expect(imageCount >= 1, 'the product view shows no image');
    summary.product_images = imageCount;
    await page.screenshot({path: screenshotAlso('product'), fullPage: false});
    await page.keyboard.press('Escape');
    await dialog.waitFor({state: 'hidden'});
    expect(await first.evaluate((card) => document.activeElement === card),
           'focus did not return to the result card after closing the product view');
    await first.press('Enter');  // keyboard: the card is a button
    await dialog.and(page.locator('[data-loaded="true"]')).waitFor();
    checkProblems();

    // 4. More like this: the product itself is left out.
    step = 'more like this';
    await search('by-product/', () => page.locator('[data-testid="more-like-this"]').click());
    await dialog.waitFor({state: 'hidden'});
    const similar = await cardIds();
    expect(similar.length > 0, `"More like this" found nothing; status: "${await status.innerText()}"`);
    expect(!similar.includes(args.expectExternalId), '"More like this" lists the product itself');
    expect((await status.innerText()).includes('like'), `status does not say "like": "${await status.innerText()}"`);
    summary.more_like_this = similar.length;
    checkProblems();

    // 5. A text query.
    step = 'search by text';
    await page.fill('[data-testid="text-input"]', 'a colourful product photo');
    await search('by-text', () => page.press('[data-testid="text-input"]', 'Enter'));
    const textIds = await cardIds();
    expect(textIds.length > 0, `the text query found nothing; status: "${await status.innerText()}"`);
    summary.text_results = textIds.length;
    checkProblems();

    // 6. Filters on the same query: a category and a price range.
    step = 'filters';
    expect(category, 'the first card carries no category to filter by');
    await page.fill('[data-testid="filter-category"]', category);
    await page.fill('[data-testid="filter-min-price"]', '1');
    await page.fill('[data-testid="filter-max-price"]', '400');
    await page.fill('[data-testid="filter-top-k"]', '50');
    const filtered = await search('by-text', () => page.click('[data-testid="apply-filters"]'));
    const body = filtered.request().postDataJSON();
    expect(body.filters && body.filters.category === category && body.filters.max_price === 400 &&
           body.top_k === 50, `filters not sent as documented: ${JSON.stringify(body)}`);
    const rows = await cards.evaluateAll((all) => all.map((c) => ({category: c.dataset.category,
                                                                     price: Number(c.dataset.price)})));
    expect(rows.length > 0, `the filtered query found nothing; status: "${await status.innerText()}"`);
    const off = rows.filter((r) => r.category !== category || r.price < 1 || r.price > 400);
    expect(off.length === 0, `results outside the filters: ${JSON.stringify(off)}`);
    summary.filtered_results = rows.length;
    summary.filter_category = category;
    checkProblems();

    // 7. An API error is shown plainly: a corrupt JPEG.
    step = 'api error';
    await page.click('[data-testid="clear-filters"]');
    await page.waitForFunction(() => !document.querySelector('[data-testid="results"]').hasAttribute('aria-busy'));
    allowedStatus = 422;
    const corrupt = {name: 'broken.jpg', mimeType: 'image/jpeg',
                     buffer: Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46])};
    const rejected = await search('by-image', () => page.setInputFiles('[data-testid="file-input"]', corrupt));
    expect(rejected.status() === 422, `a corrupt JPEG answered ${rejected.status()}, expected 422`);
    const error = page.locator('[data-testid="error"]');
    await error.waitFor();
    const errorText = await error.innerText();
    const apiError = (await rejected.json()).error;
    expect(errorText.includes(apiError.message) && errorText.includes(apiError.code),
           `the error box does not show the API's error: "${errorText}" vs ${JSON.stringify(apiError)}`);
    allowedStatus = null;
    summary.error_shown = errorText;
    checkProblems();

    // 8. Swagger UI from the binary.
    step = 'docs';
    const docs = await page.goto(args.url + '/docs', {waitUntil: 'load'});
    expect(docs && docs.ok(), `GET /docs answered ${docs && docs.status()}`);
    await page.locator('.swagger-ui .info .title').waitFor();
    const docsTitle = await page.locator('.swagger-ui .info .title').innerText();
    expect(docsTitle.includes('Lookalike'), `Swagger UI shows "${docsTitle}"`);
    await page.locator('.swagger-ui .opblock').first().waitFor();
    summary.docs_operations = await page.locator('.swagger-ui .opblock').count();
    await page.screenshot({path: screenshotAlso('docs'), fullPage: false});
    checkProblems();

    summary.screenshot = path.resolve(args.screenshot);
    process.stdout.write(JSON.stringify({ok: true, ...summary}) + '\n');
  } catch (err) {
    const reason = err instanceof CheckFailure ? err.message : (err && err.stack) || String(err);
    process.stderr.write(`web UI check failed at step "${step}": ${reason}\n`);
    if (problems.length && !(err instanceof CheckFailure && err.message === problems.join('\n'))) {
      process.stderr.write(`also seen:\n${problems.join('\n')}\n`);
    }
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  process.stderr.write(`web UI check failed: ${(err && err.stack) || err}\n`);
  process.exit(1);
});
