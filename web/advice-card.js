/*
 * The advice card: renders the bot's custom payload
 *   {"advice": {"topic": "...", "reasons": ["..."], "steps": ["..."], "situation": "...", "wording": {"step": "variant"}}}
 * (../shared/CONTRACT.md; `situation` and `wording` are added: the steps' wording, their `variants`) as a card with the likely reasons and numbered steps; each opens
 * on a tap to why it may apply / what to do (the bot's text beside the card is one line).
 * Chinese titles come from advice-labels.json, generated from knowledge/advice.yml by
 * devtools/build_web.py; an unknown code is shown as it is.
 *
 * rasa-webchat's lib/index.js bundles its own React (16.12) and does not expose it, so the
 * card builds React elements as plain objects (what React.createElement returns). Every
 * text goes in as a React text child, so React escapes it: nothing here is parsed as HTML.
 */
(function () {
  'use strict';

  var REACT_ELEMENT = typeof Symbol === 'function' && Symbol.for ? Symbol.for('react.element') : 0xeac7;

  function h(type, props) {
    var children = Array.prototype.slice.call(arguments, 2).filter(function (child) {
      return child !== null && child !== undefined && child !== false;
    });
    var ownProps = {};
    var key = null;
    Object.keys(props || {}).forEach(function (name) {
      if (name === 'key') key = String(props.key);
      else ownProps[name] = props[name];
    });
    if (children.length === 1) ownProps.children = children[0];
    else if (children.length > 1) ownProps.children = children;
    return { $$typeof: REACT_ELEMENT, type: type, key: key, ref: null, props: ownProps, _owner: null };
  }

  function codes(value) {
    return Array.isArray(value) ? value.filter(function (code) { return typeof code === 'string'; }) : [];
  }

  function format(template, name, value) {
    return typeof template === 'string' ? template.split('{' + name + '}').join(value) : '';
  }

  function entry(table, code) {
    var found = table && Object.prototype.hasOwnProperty.call(table, code) ? table[code] : null;
    return found && typeof found === 'object' ? found : { title: code };
  }

  /** A step in the wording of the user's situation (its variant), as the bot's text has it. */
  function worded(step, situation) {
    var variants = step.variants && typeof step.variants === 'object' ? step.variants : {};
    var variant = Object.prototype.hasOwnProperty.call(variants, situation) ? variants[situation] : null;
    if (!variant || typeof variant !== 'object') return step;
    var path = Object.prototype.hasOwnProperty.call(variant, 'path') ? variant.path : step.path;
    return { title: variant.title || step.title, detail: variant.detail || step.detail, path: path };
  }

  /** The React component rasa-webchat renders for a custom message, given the labels. */
  function create(labels) {
    labels = labels || {};
    var render = labels.render || {};
    var maxReasons = typeof labels.max_reasons === 'number' ? labels.max_reasons : 3;

    return function AdviceCard(props) {
      var advice = props && props.advice;
      if (!advice || typeof advice !== 'object') return null;
      var topic = typeof advice.topic === 'string' ? advice.topic : '';
      var topicTitle = (labels.topics && labels.topics[topic]) || topic;
      var reasons = codes(advice.reasons).slice(0, maxReasons);
      var steps = codes(advice.steps);
      var situation = typeof advice.situation === 'string' ? advice.situation : '';
      // A fact may choose a step's wording instead of the situation (a repaid overdue).
      var wording = advice.wording && typeof advice.wording === 'object' ? advice.wording : {};

      return h('div', { className: 'advice-card', 'data-topic': topic },
        h('div', { className: 'advice-card-heading' }, topicTitle),
        reasons.length > 0 && h('section', { className: 'advice-card-section advice-reasons' },
          h('h4', null, render.reasons_header || ''),
          h('ul', null, reasons.map(function (code) {
            var reason = entry(labels.reasons, code);
            // The title is always shown; why it may apply opens on a tap (details/summary).
            return h('li', { key: code, 'data-code': code },
              reason.why
                ? h('details', { className: 'advice-detail' },
                  h('summary', null, h('span', { className: 'advice-reason-title' }, reason.title || code)),
                  h('p', { className: 'advice-reason-why' }, reason.why))
                : h('span', { className: 'advice-reason-title' }, reason.title || code));
          }))),
        steps.length > 0 && h('section', { className: 'advice-card-section advice-steps' },
          h('h4', null, render.steps_header || ''),
          h('ol', null, steps.map(function (code, index) {
            var chosen = Object.prototype.hasOwnProperty.call(wording, code) && typeof wording[code] === 'string' ? wording[code] : situation;
            var step = worded(entry(labels.steps, code), chosen);
            return h('li', { key: code, 'data-code': code },
              h('span', { className: 'advice-step-number', 'aria-hidden': 'true' }, String(index + 1)),
              h('details', { className: 'advice-step-body advice-detail' },
                h('summary', null, h('span', { className: 'advice-step-title' }, step.title || code)),
                step.detail && h('p', { className: 'advice-step-detail' }, step.detail),
                step.path && h('span', { className: 'advice-step-path' }, format(render.path, 'path', step.path))));
          }))));
    };
  }

  window.JiebeiAdviceCard = { create: create };
}());
