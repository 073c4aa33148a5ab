/* The server's limits for a training session (lengths, ranges, required fields, choices), checked
   on the tablet before a session is saved or queued offline, so that a session typed without a
   network is not refused hours later for a note that was too long. The limits are not written
   here: the form page carries them as JSON (#session-limits), made from the server's schema
   (esd/training/forms.py), with the server's own messages. */
(function () {
  "use strict";
  var source = document.getElementById("session-limits");
  var LIMITS = source ? JSON.parse(source.textContent) : null;
  var INTEGER = /^-?[0-9]{1,18}$/;
  var DECIMAL = /^-?[0-9]{1,6}(\.[0-9]{1,6})?$/;

  function blank(value) {
    return value === null || value === undefined || (typeof value === "string" && value.trim() === "");
  }
  function asText(value) { return typeof value === "string" ? value.trim() : String(value); }
  // Python counts characters (code points); JavaScript's length counts UTF-16 units.
  function characters(text) { return Array.from(text).length; }

  function checkValue(value, spec) {
    if (blank(value)) return spec.required || null;
    if (spec.type === "integer" || spec.type === "number") {
      var pattern = spec.type === "integer" ? INTEGER : DECIMAL;
      var number = typeof value === "number" ? value : Number(asText(value));
      var wellFormed = typeof value === "number"
        ? isFinite(value) && (spec.type === "number" || Number.isInteger(value))
        : pattern.test(asText(value));
      if (!wellFormed) return spec.type_message;
      if ((spec.min != null && number < spec.min) || (spec.max != null && number > spec.max)) return spec.range_message;
      return null;
    }
    var text = asText(value);
    if (spec.refuse_nul && text.indexOf("\u0000") !== -1) return spec.refuse_nul;
    if (spec.max_length != null && characters(text) > spec.max_length) return spec.length_message;
    if (spec.choices && spec.choices.indexOf(text) === -1) return spec.choice_message;
    return null;
  }

  function checkFields(values, fields, path, errors) {
    Object.keys(fields).forEach(function (name) {
      var message = checkValue(values[name], fields[name]);
      if (message) errors.push({ field: path + name, error: message });
    });
  }

  /* Errors of a session body as the server would give them: [{field, error}], by JSON path. */
  function check(body) {
    var errors = [];
    if (!LIMITS) return errors;
    checkFields(body, LIMITS.session, "", errors);
    ["hides", "false_alerts"].forEach(function (list) {
      var rows = body[list] || [];
      var spec = LIMITS[list];
      if (rows.length > spec.max_items) { errors.push({ field: list, error: spec.message }); return; }
      rows.forEach(function (row, i) { checkFields(row, spec.fields, list + "[" + i + "].", errors); });
    });
    return errors;
  }

  window.ESDSessionLimits = { check: check, limits: LIMITS };
})();
