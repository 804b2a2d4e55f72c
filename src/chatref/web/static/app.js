/* chatref's chat page: no build step, no dependency, nothing from the internet. */
"use strict";

(() => {
  const { escapeHtml, renderMarkdown } = window.chatrefMarkdown;
  const $ = (id) => document.getElementById(id);
  const els = {
    conversations: $("conversations"), noConversations: $("no-conversations"),
    messages: $("messages"), welcome: $("welcome"), composer: $("composer"),
    question: $("question"), send: $("send"), stop: $("stop"), status: $("status"),
    title: $("title"), mode: $("mode"), sidebar: $("sidebar"), user: $("user"),
    signOut: $("sign-out"),
    openSidebar: $("open-sidebar"), closeSidebar: $("close-sidebar"), newChat: $("new-chat"),
    dialog: $("source-dialog"), sourceTitle: $("source-title"),
    sourceLocation: $("source-location"), sourceText: $("source-text"),
  };
  const state = { conversationId: null, controller: null, conversations: [], renaming: false };

  // --- HTTP -----------------------------------------------------------------------------------
  async function api(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = (data.error && data.error.message) || `${response.status} ${response.statusText}`;
      throw new Error(message);
    }
    return data;
  }

  function setStatus(text) { els.status.textContent = text || ""; }

  // --- conversation list ------------------------------------------------------------------------
  async function loadConversations() {
    try {
      const data = await api("GET", "/api/conversations");
      state.conversations = data.conversations;
      renderConversations();
    } catch (error) { setStatus(`Could not load conversations: ${error.message}`); }
  }

  function renderConversations() {
    if (state.renaming) return; // redrawn when the rename ends; never under the user's cursor
    // Keep keyboard focus on the same control across the redraw.
    const active = document.activeElement;
    const focusedItem = active && els.conversations.contains(active) ? active.closest("li") : null;
    const focusedRole = focusedItem ? active.dataset.role : null;
    const focusedId = focusedItem ? focusedItem.dataset.id : null;
    els.conversations.replaceChildren();
    els.noConversations.hidden = state.conversations.length > 0;
    for (const conversation of state.conversations) {
      const item = document.createElement("li");
      item.className = "conversation";
      item.dataset.id = conversation.id;
      if (conversation.id === state.conversationId) item.classList.add("current");
      const open = document.createElement("button");
      open.type = "button";
      open.className = "conversation-open";
      open.dataset.role = "open";
      open.textContent = conversation.title;
      open.title = conversation.title;
      if (conversation.id === state.conversationId) open.setAttribute("aria-current", "true");
      open.addEventListener("click", () => openConversation(conversation.id));
      const rename = document.createElement("button");
      rename.type = "button";
      rename.className = "icon small";
      rename.dataset.role = "rename";
      rename.textContent = "✎";
      rename.setAttribute("aria-label", `Rename “${conversation.title}”`);
      rename.addEventListener("click", () => startRename(item, conversation));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "icon small";
      remove.dataset.role = "delete";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", `Delete “${conversation.title}”`);
      remove.addEventListener("click", () => deleteConversation(conversation));
      item.append(open, rename, remove);
      els.conversations.append(item);
      if (conversation.id === focusedId) {
        const again = item.querySelector(`[data-role="${focusedRole}"]`);
        if (again) again.focus();
      }
    }
  }

  function startRename(item, conversation) {
    const input = document.createElement("input");
    input.type = "text";
    input.value = conversation.title;
    input.maxLength = 200;
    input.className = "rename";
    input.setAttribute("aria-label", "New title (Enter saves, Escape cancels)");
    state.renaming = true;
    item.replaceChildren(input);
    input.focus();
    input.select();
    let done = false;
    const finish = async (save) => {
      if (done) return;
      done = true;
      state.renaming = false;
      const title = input.value.trim();
      if (save && title && title !== conversation.title) {
        try {
          await api("PATCH", `/api/conversations/${conversation.id}`, { title });
          if (conversation.id === state.conversationId) els.title.textContent = title;
        } catch (error) { setStatus(`Rename failed: ${error.message}`); }
      }
      await loadConversations();
      const again = els.conversations.querySelector(`li[data-id="${CSS.escape(conversation.id)}"] .conversation-open`);
      if (again) again.focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); finish(true); }
      if (event.key === "Escape") { event.preventDefault(); finish(false); }
    });
    input.addEventListener("blur", () => finish(true));
  }

  async function deleteConversation(conversation) {
    if (!window.confirm(`Delete “${conversation.title}”? This cannot be undone.`)) return;
    try {
      await api("DELETE", `/api/conversations/${conversation.id}`);
      if (conversation.id === state.conversationId) newChat();
      await loadConversations();
      setStatus("Conversation deleted.");
    } catch (error) { setStatus(`Delete failed: ${error.message}`); }
  }

  function newChat() {
    stopAnswer();
    state.conversationId = null;
    els.messages.replaceChildren(els.welcome);
    els.welcome.hidden = false;
    els.title.textContent = "chatref";
    renderConversations();
    closeSidebar();
    els.question.focus();
  }

  async function openConversation(id) {
    stopAnswer();
    try {
      const conversation = await api("GET", `/api/conversations/${id}`);
      state.conversationId = conversation.id;
      els.title.textContent = conversation.title;
      els.messages.replaceChildren();
      for (const message of conversation.messages) {
        if (message.role === "user") addUserMessage(message.content);
        else {
          const view = addAnswer();
          view.id = message.id;
          view.text = message.content;
          view.citations = message.citations;
          finishAnswer(view, message.status, message.feedback);
        }
      }
      renderConversations();
      closeSidebar();
      els.question.focus();
    } catch (error) { setStatus(`Could not open the conversation: ${error.message}`); }
  }

  // --- messages ---------------------------------------------------------------------------------
  function addUserMessage(text) {
    els.welcome.hidden = true;
    const article = document.createElement("article");
    article.className = "message user";
    article.setAttribute("aria-label", "Question");
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = text;
    article.append(body);
    els.messages.append(article);
    article.scrollIntoView({ block: "end" });
  }

  function addAnswer() {
    els.welcome.hidden = true;
    const article = document.createElement("article");
    article.className = "message assistant";
    article.setAttribute("aria-label", "Answer");
    const body = document.createElement("div");
    body.className = "body markdown";
    const sources = document.createElement("div");
    sources.className = "sources";
    const footer = document.createElement("div");
    footer.className = "answer-footer";
    article.append(body, sources, footer);
    els.messages.append(article);
    const view = { article, body, sources, footer, text: "", citations: [], id: null, pending: false };
    body.addEventListener("click", (event) => {
      const button = event.target.closest("button.cite");
      if (button) openSource(view, Number(button.dataset.n));
    });
    return view;
  }

  function renderAnswer(view) {
    view.body.innerHTML = renderMarkdown(view.text); // renderMarkdown escapes all input
    for (const button of view.body.querySelectorAll("button.cite")) {
      const known = view.citations.some((c) => c.id === Number(button.dataset.n));
      button.disabled = !known;
    }
  }

  function scheduleRender(view) {
    if (view.pending) return;
    view.pending = true;
    requestAnimationFrame(() => { view.pending = false; renderAnswer(view); });
  }

  function renderSources(view) {
    view.sources.replaceChildren();
    if (!view.citations.length) return;
    const heading = document.createElement("h3");
    heading.textContent = "Sources";
    const list = document.createElement("ul");
    for (const citation of [...view.citations].sort((a, b) => a.id - b.id)) {
      const item = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "source-link";
      button.textContent = `[${citation.id}] ${citation.title || citation.source}`;
      button.addEventListener("click", () => openSource(view, citation.id));
      const where = document.createElement("span");
      where.className = "muted";
      where.textContent = ` ${location(citation)}`;
      item.append(button, where);
      list.append(item);
    }
    view.sources.append(heading, list);
  }

  function location(citation) {
    const parts = [citation.source];
    if (citation.page != null) parts.push(`page ${citation.page}`);
    if (citation.section) parts.push(citation.section);
    return parts.join(" · ");
  }

  function openSource(view, number) {
    const citation = view.citations.find((c) => c.id === number);
    if (!citation) return;
    els.sourceTitle.textContent = `[${citation.id}] ${citation.title || citation.source}`;
    els.sourceLocation.textContent = location(citation);
    els.sourceText.textContent = citation.text;
    els.dialog.showModal();
    $("source-close").focus();
  }

  const STATUS_NOTES = {
    stopped: "Stopped before the answer was complete.",
    error: "The model stopped part-way; this answer is incomplete.",
  };

  function finishAnswer(view, status, feedback) {
    view.article.removeAttribute("aria-busy");
    renderAnswer(view);
    renderSources(view);
    view.footer.replaceChildren();
    if (STATUS_NOTES[status]) {
      const note = document.createElement("p");
      note.className = `note ${status}`;
      note.textContent = STATUS_NOTES[status];
      view.footer.append(note);
    }
    if (view.id) view.footer.append(feedbackControls(view, feedback));
  }

  function feedbackControls(view, feedback) {
    const box = document.createElement("div");
    box.className = "feedback";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Feedback on this answer");
    const buttons = {};
    const comment = document.createElement("input");
    comment.type = "text";
    comment.maxLength = 2000;
    comment.placeholder = "Comment (optional, Enter saves)";
    comment.setAttribute("aria-label", "Feedback comment");
    comment.hidden = true;
    let rating = feedback ? feedback.rating : null;
    if (feedback && feedback.comment) comment.value = feedback.comment;
    const send = async () => {
      try {
        await api("PUT", `/api/messages/${view.id}/feedback`, { rating, comment: comment.value.trim() || null });
        setStatus("Thanks for the feedback.");
      } catch (error) { setStatus(`Feedback failed: ${error.message}`); }
    };
    for (const [value, label, text] of [["up", "Helpful", "✓ Helpful"], ["down", "Not helpful", "✗ Not helpful"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "icon small";
      button.textContent = text;
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", String(rating === value));
      button.addEventListener("click", async () => {
        rating = value;
        for (const [v, b] of Object.entries(buttons)) b.setAttribute("aria-pressed", String(v === value));
        comment.hidden = false;
        await send();
      });
      buttons[value] = button;
      box.append(button);
    }
    comment.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); send(); }
    });
    box.append(comment);
    return box;
  }

  // --- streaming --------------------------------------------------------------------------------
  async function* sseEvents(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) event = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        }
        if (data.length) yield { event, data: JSON.parse(data.join("\n")) };
      }
    }
  }

  function setBusy(busy) {
    els.send.hidden = busy;
    els.stop.hidden = !busy;
    els.question.setAttribute("aria-busy", String(busy));
  }

  function stopAnswer() {
    if (state.controller) state.controller.abort();
  }

  async function ask(question) {
    addUserMessage(question);
    const view = addAnswer();
    view.body.innerHTML = '<p class="muted thinking">Searching your documents…</p>';
    view.article.setAttribute("aria-busy", "true"); // screen readers read it once, when complete
    const controller = new AbortController();
    state.controller = controller;
    setBusy(true);
    setStatus("");
    let status = "complete";
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: question }], conversation_id: state.conversationId }),
        signal: controller.signal,
      });
      if (!response.ok) {
        const data = await response.json().catch(() => ({}));
        throw new Error((data.error && data.error.message) || `${response.status} ${response.statusText}`);
      }
      for await (const { event, data } of sseEvents(response)) {
        if (event === "conversation") {
          const isNew = state.conversationId !== data.id;
          state.conversationId = data.id;
          if (isNew) els.title.textContent = question; // listed once the turn is stored
        } else if (event === "delta") {
          view.text += data.text;
          scheduleRender(view);
        } else if (event === "citations") {
          view.citations = data;
        } else if (event === "done") {
          view.id = data.message_id;
          els.mode.hidden = false;
          els.mode.textContent = data.mode === "extractive" ? "extractive answers" : "model answers";
          status = data.finish_reason === "content_filter" ? "filtered" : "complete";
        } else if (event === "error") {
          view.id = data.message_id;
          status = "error";
          setStatus(data.message);
        }
      }
    } catch (error) {
      if (error.name === "AbortError") status = "stopped";
      else { status = "error"; setStatus(`The question could not be answered: ${error.message}`); }
    } finally {
      if (state.controller === controller) state.controller = null;
      setBusy(false);
      finishAnswer(view, status, null);
      if (status === "stopped") setStatus("Stopped.");
      loadConversations();
      // A stopped turn is stored when the server notices the hang-up: list it a moment later.
      if (status === "stopped") setTimeout(loadConversations, 750);
      els.question.focus();
    }
  }

  // --- wiring -----------------------------------------------------------------------------------
  els.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const question = els.question.value.trim();
    if (!question || state.controller) return;
    els.question.value = "";
    ask(question);
  });
  els.question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      els.composer.requestSubmit();
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && state.controller && !els.dialog.open) stopAnswer();
  });
  els.stop.addEventListener("click", stopAnswer);
  els.newChat.addEventListener("click", newChat);

  function closeSidebar() {
    els.sidebar.classList.remove("open");
    els.openSidebar.setAttribute("aria-expanded", "false");
  }
  els.openSidebar.addEventListener("click", () => {
    els.sidebar.classList.add("open");
    els.openSidebar.setAttribute("aria-expanded", "true");
    els.newChat.focus();
  });
  els.closeSidebar.addEventListener("click", () => { closeSidebar(); els.openSidebar.focus(); });

  // --- who is signed in (behind App Service authentication: name and sign-out link) -----------
  async function loadMe() {
    try {
      const me = await api("GET", "/api/me");
      if (me.auth_mode === "local") return;
      els.user.textContent = me.name || me.user_id;
      els.user.hidden = false;
      if (me.sign_out_url) {
        els.signOut.href = me.sign_out_url;
        els.signOut.hidden = false;
      }
    } catch (error) {
      setStatus(`Could not tell who is signed in: ${error.message}`);
    }
  }

  window.chatref = { escapeHtml };
  loadMe();
  loadConversations();
  els.question.focus();
})();
