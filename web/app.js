/*
 * Mounts the rasa-webchat widget (vendor/rasa-webchat.js, built from web/node_modules by
 * devtools/build_web.py) and connects it to the bot's socket.io endpoint.
 *
 * The bot's URL: ?socketUrl=http://host:port on the page's address, else config.js
 * (written by `make web`; nginx under `make scale` serves one saying "same-origin": the
 * page's own origin), else http://localhost:5005. The server's Content-Security-Policy
 * (devtools/serve_web.py, deploy/nginx.conf.template) must allow that origin in connect-src.
 */
(function () {
  'use strict';

  var DEFAULT_SOCKET_URL = 'http://localhost:5005';
  // Where rasa-webchat keeps the conversation and its session id (params.storage).
  var SESSION_KEY = 'chat_session';

  function socketUrl() {
    var fromQuery = new URLSearchParams(window.location.search).get('socketUrl');
    var config = window.JIEBEI_WEB_CONFIG || {};
    var configured = config.socketUrl === 'same-origin' ? window.location.origin : config.socketUrl;
    var candidates = [fromQuery, configured, DEFAULT_SOCKET_URL];
    for (var i = 0; i < candidates.length; i += 1) {
      try {
        var url = new URL(candidates[i]);
        if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
      } catch (error) { /* not a URL: try the next one */ }
    }
    return DEFAULT_SOCKET_URL;
  }

  function loadLabels() {
    return fetch('advice-labels.json', { cache: 'no-cache' })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .catch(function () { return {}; });
  }

  function messageDelay(message) {
    var delay = (message || '').length * 10;
    return Math.max(400, Math.min(delay, 1500));
  }

  // 重新开始: the conversation (with the user's financial facts) is kept in this browser's
  // storage, maybe on a shared phone; this forgets it and opens a new session.
  function restart() {
    try {
      window.localStorage.removeItem(SESSION_KEY);
      window.sessionStorage.removeItem(SESSION_KEY);
    } catch (error) { /* storage disabled: nothing kept either */ }
    window.location.reload();
  }

  var restartButton = document.getElementById('restart');
  if (restartButton) restartButton.addEventListener('click', restart);

  loadLabels().then(function (labels) {
    window.WebChat.default({
      socketUrl: socketUrl(),
      socketPath: '/socket.io/',
      title: '借呗额度助手',
      subtitle: '额度降了、借不出、想提额，都能问我',
      inputTextFieldHint: '请输入您的问题…',
      connectingText: '正在连接…',
      initPayload: '/greet',
      // The conversation (and the socket.io session id) is kept in localStorage, so it
      // survives a reload; the bot's channel has session_persistence on.
      params: { storage: 'local' },
      // The page has no other purpose: the chat is open from the start, with no launcher.
      embedded: true,
      customComponent: window.JiebeiAdviceCard.create(labels),
      customMessageDelay: messageDelay,
      hideWhenNotConnected: false,
      withRules: false,
      mainColor: '#1677ff',
      userBackgroundColor: '#1677ff',
      userTextColor: '#ffffff',
    }, document.getElementById('webchat'));
  });
}());
