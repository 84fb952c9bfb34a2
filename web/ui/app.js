// Lookalike's web page: search by photo (drop, paste, choose) or by text, filters, a product
// view with "More like this". Vanilla ES2020, no dependencies; talks to the HTTP API of
// `lookalike serve` on the same origin (docs/API.md).
'use strict';

(() => {
  const API = '/api/v1';
  const KEY_STORAGE = 'lookalike.apiKey';

  const $ = (id) => document.getElementById(id);
  const els = {
    dropzone: $('dropzone'),
    photoInput: $('photo-input'),
    photoPreview: $('photo-preview'),
    photoName: $('photo-name'),
    form: $('search-form'),
    query: $('text-query'),
    category: $('filter-category'),
    minPrice: $('filter-min-price'),
    maxPrice: $('filter-max-price'),
    topK: $('filter-top-k'),
    clearFilters: $('clear-filters'),
    knownCategories: $('known-categories'),
    apiKey: $('api-key'),
    saveKey: $('save-api-key'),
    forgetKey: $('forget-api-key'),
    keyState: $('api-key-state'),
    settings: $('settings'),
    status: $('status'),
    error: $('error'),
    results: $('results'),
    dialog: $('product-dialog'),
    productTitle: $('product-title'),
    productError: $('product-error'),
    productBody: $('product-body'),
    productImages: $('product-images'),
    productPrice: $('product-price'),
    productExternalId: $('product-external-id'),
    productCategory: $('product-category'),
    productDescription: $('product-description'),
    moreLikeThis: $('more-like-this'),
    closeProduct: $('close-product'),
  };

  // ---- state ------------------------------------------------------------------------------
  let photo = null;           // the File of the current photo query
  let photoUrl = null;        // its object URL (preview)
  let lastQuery = null;       // {kind: 'text'|'image'|'product', ...} for re-running with filters
  let searchSeq = 0;          // answers to superseded searches are dropped
  let searchAbort = null;
  let shownProduct = null;    // the product in the dialog
  let openedFrom = null;      // the element to give focus back to when the dialog closes
  const categories = new Set();

  // ---- API ---------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  function apiKey() {
    try {
      return localStorage.getItem(KEY_STORAGE) || '';
    } catch (_) {
      return '';
    }
  }

  async function api(method, path, {json, body, signal} = {}) {
    const headers = {Accept: 'application/json'};
    const key = apiKey();
    if (key) headers['X-API-Key'] = key;
    if (json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(API + path, {method, headers, body, signal});
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', `Could not reach the server (${e.message}).`);
    }
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (_) {
        data = null;
      }
    }
    if (!response.ok) {
      const err = data && data.error;
      if (err && typeof err === 'object') {
        throw new ApiError(response.status, err.code || 'error', err.message || response.statusText);
      }
      throw new ApiError(response.status, 'http_' + response.status,
                         `${response.status} ${response.statusText || 'error'}`.trim());
    }
    if (data === null) throw new ApiError(response.status, 'bad_response', 'The server sent no JSON.');
    return data;
  }

  function describeError(e) {
    if (e.status === 401) return `${e.message} — this server needs an API key (see "API key" above).`;
    if (e.status === 403) return `${e.message} — the API key is not allowed to do this.`;
    if (e.status === 429) return `${e.message} — too many requests; wait a moment and try again.`;
    return e.message;
  }

  function showError(target, e) {
    if (!e) {
      target.hidden = true;
      target.textContent = '';
      return;
    }
    target.textContent = '';
    const strong = document.createElement('strong');
    strong.textContent = 'Error: ';
    target.append(strong, describeError(e));
    if (e.code && e.status) {
      const code = document.createElement('span');
      code.className = 'error-code';
      code.textContent = ` (${e.code}, HTTP ${e.status})`;
      target.append(code);
    }
    target.dataset.code = e.code || '';
    target.hidden = false;
  }

  // ---- filters -----------------------------------------------------------------------------
  function readFilters() {
    const problems = [];
    const filters = {};
    const category = els.category.value.trim();
    if (category) filters.category = category;
    for (const [input, name, label] of [[els.minPrice, 'min_price', 'Min price'],
                                        [els.maxPrice, 'max_price', 'Max price']]) {
      const raw = input.value.trim();
      if (!raw) continue;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < 0) problems.push(`${label} must be a number ≥ 0.`);
      else filters[name] = value;
    }
    if (filters.min_price !== undefined && filters.max_price !== undefined &&
        filters.min_price > filters.max_price) {
      problems.push('Min price is above max price.');
    }
    let topK = 20;
    const rawTopK = els.topK.value.trim();
    if (rawTopK) {
      topK = Number(rawTopK);
      if (!Number.isInteger(topK) || topK < 1 || topK > 1000) {
        problems.push('Results must be a whole number from 1 to 1000.');
      }
    }
    return {filters, topK, problems};
  }

  // ---- searching ---------------------------------------------------------------------------
  async function runSearch(query) {
    const {filters, topK, problems} = readFilters();
    if (problems.length) {
      showError(els.error, new ApiError(0, '', problems.join(' ')));
      return;
    }
    lastQuery = query;
    const seq = ++searchSeq;
    if (searchAbort) searchAbort.abort();
    searchAbort = new AbortController();
    const signal = searchAbort.signal;
    showError(els.error, null);
    els.results.setAttribute('aria-busy', 'true');
    els.status.textContent = `Searching ${describeQuery(query)}…`;
    try {
      let answer;
      if (query.kind === 'text') {
        const body = {query: query.text, top_k: topK};
        if (Object.keys(filters).length) body.filters = filters;
        answer = await api('POST', '/search/by-text', {json: body, signal});
      } else if (query.kind === 'image') {
        const form = new FormData();
        form.append('file', query.file, query.file.name || 'photo');
        form.append('top_k', String(topK));
        for (const [name, value] of Object.entries(filters)) form.append(name, String(value));
        answer = await api('POST', '/search/by-image', {body: form, signal});
      } else {
        const body = {top_k: topK};
        if (Object.keys(filters).length) body.filters = filters;
        answer = await api('POST', `/search/by-product/${encodeURIComponent(query.id)}`,
                           {json: body, signal});
      }
      if (seq !== searchSeq) return;
      renderResults(answer, query);
    } catch (e) {
      if (e.name === 'AbortError' || seq !== searchSeq) return;
      els.results.replaceChildren();
      els.status.textContent = `No results ${describeQuery(query)}.`;
      showError(els.error, e);
    } finally {
      if (seq === searchSeq) els.results.removeAttribute('aria-busy');
    }
  }

  function describeQuery(query) {
    if (query.kind === 'text') return `for “${query.text}”`;
    if (query.kind === 'image') return `for the photo ${query.file.name ? '“' + query.file.name + '”' : ''}`.trim();
    return `like “${query.title}”`;
  }

  function formatPrice(price, currency) {
    if (price === null || price === undefined || price === '') return '';
    const value = Number(price);
    if (!Number.isFinite(value)) return String(price);
    if (currency) {
      try {
        return new Intl.NumberFormat(undefined, {style: 'currency', currency}).format(value);
      } catch (_) {
        return `${value.toFixed(2)} ${currency}`;
      }
    }
    return value.toFixed(2);
  }

  function renderResults(answer, query) {
    const results = Array.isArray(answer.results) ? answer.results : [];
    const items = results.map((result, index) => resultCard(result, index));
    els.results.replaceChildren(...items);
    const n = results.length;
    const took = typeof answer.took_ms === 'number' ? ` in ${Math.round(answer.took_ms)} ms` : '';
    els.status.textContent = n === 0
      ? `No results ${describeQuery(query)}. Try fewer filters.`
      : `${n} result${n === 1 ? '' : 's'} ${describeQuery(query)}${took}.`;
    els.status.dataset.count = String(n);
    for (const result of results) {
      const category = result.product && result.product.category;
      if (category && !categories.has(category)) {
        categories.add(category);
        const option = document.createElement('option');
        option.value = category;
        els.knownCategories.append(option);
      }
    }
  }

  function resultCard(result, index) {
    const product = result.product || {};
    const li = document.createElement('li');
    const card = document.createElement('button');
    card.type = 'button';
    card.className = 'card';
    card.dataset.testid = 'result-card';
    card.dataset.externalId = product.external_id || '';
    card.dataset.productId = product.id === undefined ? '' : String(product.id);
    card.dataset.category = product.category || '';
    card.dataset.price = product.price === null || product.price === undefined ? '' : String(product.price);
    card.dataset.score = String(result.score);
    const title = product.title || product.external_id || 'Untitled product';

    const imageUrl = result.image_url || product.image_url;
    if (imageUrl) {
      const img = document.createElement('img');
      img.src = imageUrl;
      img.alt = title;
      img.loading = 'lazy';
      img.decoding = 'async';
      img.width = 224;
      img.height = 224;
      card.append(img);
    } else {
      const none = document.createElement('div');
      none.className = 'no-image';
      none.textContent = 'No image';
      card.append(none);
    }
    const body = document.createElement('span');
    body.className = 'card-body';
    const name = document.createElement('span');
    name.className = 'card-title';
    name.dataset.testid = 'result-title';
    name.textContent = title;
    const price = document.createElement('span');
    price.className = 'card-price';
    price.dataset.testid = 'result-price';
    price.textContent = formatPrice(product.price, product.currency);
    const meta = document.createElement('span');
    meta.className = 'card-meta';
    const score = document.createElement('span');
    score.className = 'card-score';
    score.dataset.testid = 'result-score';
    score.title = 'Similarity (cosine, -1 to 1)';
    score.textContent = typeof result.score === 'number' ? `score ${result.score.toFixed(3)}` : '';
    meta.append(score);
    if (product.category) {
      const category = document.createElement('span');
      category.className = 'card-category';
      category.textContent = product.category;
      meta.append(category);
    }
    body.append(name, price, meta);
    card.append(body);
    const priceText = formatPrice(product.price, product.currency);
    const scoreText = typeof result.score === 'number' ? `, score ${result.score.toFixed(3)}` : '';
    card.setAttribute('aria-label',
                      `${index + 1}. ${title}${priceText ? ', ' + priceText : ''}${scoreText}. Open details`);
    card.addEventListener('click', () => openProduct(product, card));
    li.append(card);
    return li;
  }

  // ---- photo input: choose, drop, paste ----------------------------------------------------
  function usePhoto(file) {
    if (!file) return;
    if (file.type && !file.type.startsWith('image/')) {
      showError(els.error, new ApiError(0, '', `“${file.name}” is not an image.`));
      return;
    }
    photo = file;
    if (photoUrl) URL.revokeObjectURL(photoUrl);
    photoUrl = URL.createObjectURL(file);
    els.photoPreview.src = photoUrl;
    els.photoPreview.alt = `Your photo${file.name ? ': ' + file.name : ''}`;
    els.photoPreview.hidden = false;
    els.photoName.textContent = file.name ? `Photo: ${file.name}` : 'Pasted photo';
    els.query.value = '';
    runSearch({kind: 'image', file});
  }

  els.photoInput.addEventListener('change', () => {
    const file = els.photoInput.files && els.photoInput.files[0];
    usePhoto(file);
    els.photoInput.value = '';  // choosing the same file again searches again
  });

  const hasFiles = (event) =>
    event.dataTransfer && Array.from(event.dataTransfer.types || []).includes('Files');
  let dragDepth = 0;
  document.addEventListener('dragenter', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth++;
    els.dropzone.classList.add('dragging');
  });
  document.addEventListener('dragleave', (event) => {
    if (!hasFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) els.dropzone.classList.remove('dragging');
  });
  document.addEventListener('dragover', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();  // a drop anywhere on the page is a photo query, not a navigation
    event.dataTransfer.dropEffect = 'copy';
  });
  document.addEventListener('drop', (event) => {
    if (!hasFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    els.dropzone.classList.remove('dragging');
    usePhoto(event.dataTransfer.files[0]);
  });
  document.addEventListener('paste', (event) => {
    const items = event.clipboardData ? Array.from(event.clipboardData.items) : [];
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (!item) return;  // plain text pastes into fields as usual
    event.preventDefault();
    usePhoto(item.getAsFile());
  });

  // ---- text query and filters --------------------------------------------------------------
  els.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = els.query.value.trim();
    if (text) {
      runSearch({kind: 'text', text});
    } else if (lastQuery && lastQuery.kind !== 'text') {
      runSearch(lastQuery);
    } else if (photo) {
      runSearch({kind: 'image', file: photo});
    } else {
      showError(els.error, new ApiError(0, '', 'Type a query or choose a photo first.'));
      els.query.focus();
    }
  });
  els.clearFilters.addEventListener('click', () => {
    els.category.value = '';
    els.minPrice.value = '';
    els.maxPrice.value = '';
    els.topK.value = '20';
    if (lastQuery) runSearch(lastQuery);
  });

  // ---- API key -----------------------------------------------------------------------------
  function showKeyState() {
    const has = apiKey() !== '';
    els.keyState.textContent = has ? 'A key is saved in this browser.' : 'No key saved.';
    if (has) els.settings.open = true;
  }
  els.apiKey.value = apiKey();
  els.saveKey.addEventListener('click', () => {
    try {
      const key = els.apiKey.value.trim();
      if (key) localStorage.setItem(KEY_STORAGE, key);
      else localStorage.removeItem(KEY_STORAGE);
    } catch (_) {
      els.keyState.textContent = 'This browser does not allow storing the key.';
      return;
    }
    showKeyState();
    if (lastQuery) runSearch(lastQuery);
  });
  els.forgetKey.addEventListener('click', () => {
    try {
      localStorage.removeItem(KEY_STORAGE);
    } catch (_) { /* nothing stored then */ }
    els.apiKey.value = '';
    showKeyState();
  });
  showKeyState();

  // ---- product view ------------------------------------------------------------------------
  async function openProduct(summary, opener) {
    openedFrom = opener || null;
    shownProduct = summary;
    fillProduct(summary, []);
    showError(els.productError, null);
    els.productBody.setAttribute('aria-busy', 'true');
    if (typeof els.dialog.showModal === 'function') {
      if (!els.dialog.open) els.dialog.showModal();
    } else {
      els.dialog.setAttribute('open', '');
    }
    els.closeProduct.focus();
    const id = summary.id !== undefined && summary.id !== null ? summary.id : summary.external_id;
    try {
      const product = await api('GET', `/products/${encodeURIComponent(id)}`);
      if (shownProduct !== summary) return;
      shownProduct = product;
      fillProduct(product, Array.isArray(product.images) ? product.images : []);
      els.dialog.dataset.loaded = 'true';
    } catch (e) {
      if (shownProduct === summary) showError(els.productError, e);
    } finally {
      els.productBody.removeAttribute('aria-busy');
    }
  }

  function fillProduct(product, images) {
    delete els.dialog.dataset.loaded;
    els.dialog.dataset.externalId = product.external_id || '';
    const title = product.title || product.external_id || 'Untitled product';
    els.productTitle.textContent = title;
    els.productPrice.textContent = formatPrice(product.price, product.currency) || 'No price';
    els.productExternalId.textContent = product.external_id || '—';
    els.productCategory.textContent = product.category || '—';
    els.productDescription.textContent = product.description || 'No description.';
    const urls = images.length
      ? images.slice().sort((a, b) => (a.position || 0) - (b.position || 0)).map((i) => i.url)
      : [product.image_url];
    const figures = urls.filter(Boolean).map((url, i, all) => {
      const img = document.createElement('img');
      img.src = url;
      img.alt = all.length > 1 ? `${title}, image ${i + 1} of ${all.length}` : title;
      img.dataset.testid = 'product-image';
      img.decoding = 'async';
      return img;
    });
    els.productImages.replaceChildren(...figures);
  }

  function closeProduct() {
    if (els.dialog.open) {
      if (typeof els.dialog.close === 'function') els.dialog.close();
      else els.dialog.removeAttribute('open');
    }
  }
  els.dialog.addEventListener('close', () => {
    if (openedFrom && document.contains(openedFrom)) openedFrom.focus();
    openedFrom = null;
  });
  els.closeProduct.addEventListener('click', closeProduct);
  els.dialog.addEventListener('click', (event) => {
    if (event.target === els.dialog) closeProduct();  // a click on the backdrop
  });
  els.moreLikeThis.addEventListener('click', () => {
    const product = shownProduct;
    if (!product) return;
    openedFrom = null;
    closeProduct();
    const id = product.id !== undefined && product.id !== null ? product.id : product.external_id;
    els.query.value = '';
    runSearch({kind: 'product', id, title: product.title || product.external_id || String(id)});
    $('results-heading').focus();
  });
})();
