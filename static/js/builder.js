/* The credential builder (templates/admin/programs/credential_builder.html): saves the draft as
   it changes, and edits its lists in place.

   - Saving: every change schedules a save (debounced); leaving a field, hiding the tab or closing
     it saves at once. A save posts the whole form to data-save-url, which answers JSON: saved, or
     the field errors by path (shown next to their fields), and what still blocks publishing.
     The status line (role=status) says Saving…, Saved, or why not.
   - Nothing lost: until a save succeeds, the form's fields are kept in localStorage; on the next
     visit the page offers to restore them (posted to the page, which saves or shows the errors).
   - Lists: rows are [data-item] inside [data-list]; field names are their paths
     (requirements.0.questions.1.prompt), renumbered after every add, move or removal. Rows move
     with their Move up/down buttons or, for rubric criteria, by dragging.
   - Words: Django's JavaScript catalog (gettext, interpolate), loaded before this script.
*/
(function () {
  "use strict";

  var form = document.getElementById("builder-form");
  if (!form) return;
  var statusLine = document.getElementById("builder-status");
  var problemsBox = document.getElementById("builder-problems");
  var saveUrl = form.dataset.saveUrl;
  var storageKey = "tessera-builder-" + form.dataset.version;
  var DELAY = 800;

  var timer = null;
  var dirty = false;
  var inFlight = false;
  var again = false;
  var edits = 0;

  // --- Names ------------------------------------------------------------------------------

  function itemIndex(item) {
    var list = item.parentElement.closest("[data-list]");
    var siblings = Array.prototype.filter.call(list.children, function (el) {
      return el.hasAttribute("data-item");
    });
    return { list: list, index: siblings.indexOf(item) };
  }

  function pathOf(control) {
    // the chain of items from the outside in: list name and index of each
    var parts = [];
    var node = control.closest("[data-item]");
    var up = parseInt(control.dataset.up || "0", 10);
    var value = null;
    while (node) {
      var where = itemIndex(node);
      if (up > 0) {
        value = String(where.index);
        up -= 1;
      } else {
        parts.unshift(where.list.dataset.list + "." + where.index);
      }
      node = where.list.closest("[data-item]");
    }
    if (value !== null) control.value = value;
    var field = control.dataset.field;
    return parts.join(".") + (field ? "." + field : "");
  }

  function renumber() {
    // radio buttons first each to a group of their own, so that none is unchecked by passing
    // through another row's group on the way to its new name
    var radios = form.querySelectorAll("input[type=radio][data-field]");
    radios.forEach(function (radio, n) {
      radio.name = "renumbering-" + n;
    });
    form.querySelectorAll("[data-field]").forEach(function (control) {
      control.name = pathOf(control);
    });
    form.querySelectorAll("[data-number]").forEach(function (label) {
      var item = label.closest("[data-item]");
      label.textContent = label.dataset.number + " " + (itemIndex(item).index + 1);
    });
    form.querySelectorAll("[data-list][data-empty]").forEach(function (list) {
      // an empty list says so just after it (after the table, for the rubric's rows)
      var anchor = list.tagName === "TBODY" ? list.closest("table") : list;
      var empty = !list.querySelector(":scope > [data-item]");
      var note = anchor.nextElementSibling;
      var hasNote = !!note && note.classList.contains("builder-empty");
      if (empty && !hasNote) {
        var p = document.createElement("p");
        p.className = "builder-empty";
        p.textContent = list.dataset.empty;
        anchor.after(p);
      } else if (!empty && hasNote) {
        note.remove();
      }
    });
    refreshRequirementChoices();
  }

  function refreshRequirementChoices() {
    var requirements = form.querySelectorAll("[data-list='requirements'] > [data-item]");
    var options = Array.prototype.map.call(requirements, function (item) {
      var title = item.querySelector("[data-field='title']").value.trim();
      return [item.querySelector("[data-field='key']").value, title || gettext("(untitled)")];
    });
    form.querySelectorAll("[data-requirement-select]").forEach(function (select) {
      var chosen = select.value;
      while (select.options.length > 1) select.remove(1);
      options.forEach(function (pair) {
        var option = new Option(pair[1], pair[0]);
        option.selected = pair[0] === chosen;
        select.add(option);
      });
    });
  }

  // --- Rows -------------------------------------------------------------------------------

  function fromTemplate(id) {
    var template = document.getElementById(id);
    return template.content.firstElementChild.cloneNode(true);
  }

  function columns() {
    return form.querySelectorAll("[data-list='rubric.scores'] > [data-item]").length;
  }

  function newKey() {
    return "n" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
  }

  function add(kind, button) {
    var row;
    var list;
    if (kind === "requirement") {
      row = fromTemplate("tpl-requirement");
      row.querySelector("[data-field='key']").value = newKey();
      list = form.querySelector("[data-list='requirements']");
    } else if (kind === "question") {
      row = fromTemplate("tpl-question");
      list = button.parentElement.querySelector("[data-list='questions']");
    } else if (kind === "choice") {
      row = fromTemplate("tpl-choice");
      list = button.parentElement.querySelector("[data-list='choices']");
    } else if (kind === "criterion") {
      row = fromTemplate("tpl-criterion");
      for (var k = 0; k < columns(); k++) row.appendChild(fromTemplate("tpl-cell"));
      list = form.querySelector("[data-list='rubric.criteria']");
    } else if (kind === "resource") {
      row = fromTemplate("tpl-resource");
      list = form.querySelector("[data-list='resources']");
    } else if (kind === "column") {
      var scores = form.querySelector("[data-list='rubric.scores']");
      var header = fromTemplate("tpl-score");
      var inputs = scores.querySelectorAll("input");
      var last = inputs.length ? parseInt(inputs[inputs.length - 1].value, 10) : 0;
      header.querySelector("input").value = isNaN(last) ? "" : String(last + 1);
      scores.appendChild(header);
      form.querySelectorAll("[data-list='rubric.criteria'] > [data-item]").forEach(function (tr) {
        tr.appendChild(fromTemplate("tpl-cell"));
      });
      renumber();
      header.querySelector("input").focus();
      changed();
      return;
    }
    list.appendChild(row);
    renumber();
    if (kind === "criterion") {
      // the middle level passes, to begin with (checked once the row has its own name)
      var middle = row.querySelectorAll("[data-field='passing']")[Math.floor(columns() / 2)];
      if (middle) middle.checked = true;
    }
    var first = row.querySelector("input:not([type=hidden]):not([type=radio]), textarea, select");
    if (first) first.focus();
    changed();
  }

  function act(action, button) {
    if (action === "remove-column") {
      if (columns() <= 1) return;
      var headers = form.querySelectorAll("[data-list='rubric.scores'] > [data-item]");
      headers[headers.length - 1].remove();
      form.querySelectorAll("[data-list='rubric.criteria'] > [data-item]").forEach(function (tr) {
        var cells = tr.querySelectorAll(":scope > td[data-item]");
        if (cells.length) cells[cells.length - 1].remove();
      });
      renumber();
      changed();
      return;
    }
    var item = button.closest("[data-item]");
    var list = item.parentElement;
    if (action === "remove") {
      var next = item.nextElementSibling || item.previousElementSibling;
      item.remove();
      renumber();
      var focus = (next && next.querySelector("button")) || list.closest("section").querySelector("button[data-add]");
      if (focus) focus.focus();
      changed();
      return;
    }
    var sibling = action === "up" ? item.previousElementSibling : item.nextElementSibling;
    if (!sibling || !sibling.hasAttribute("data-item")) {
      announce(action === "up" ? gettext("Already first.") : gettext("Already last."));
      return;
    }
    if (action === "up") list.insertBefore(item, sibling);
    else list.insertBefore(sibling, item);
    renumber();
    button.focus();
    var label = item.querySelector("[data-number]");
    var position = { n: itemIndex(item).index + 1 };
    announce(interpolate(gettext("Moved to position %(n)s"), position, true) + (label ? "." : ""));
    changed();
  }

  function showKind(select) {
    var item = select.closest("[data-item]");
    item.querySelectorAll(":scope > fieldset > [data-kinds]").forEach(function (part) {
      part.hidden = part.dataset.kinds !== select.value;
    });
  }

  // dragging rubric criteria (the buttons do the same from the keyboard)
  var dragged = null;
  // by its handle: the row is draggable only while the handle is held, so the mouse still
  // selects text in the row's fields
  form.addEventListener("mousedown", function (event) {
    var handle = event.target.closest && event.target.closest(".builder-drag");
    if (handle) handle.closest("tr.builder-criterion").draggable = true;
  });
  form.addEventListener("mouseup", function () {
    form.querySelectorAll("tr[draggable]").forEach(function (row) {
      row.removeAttribute("draggable");
    });
  });
  form.addEventListener("dragstart", function (event) {
    var row = event.target.closest && event.target.closest("tr[draggable]");
    if (!row) return;
    dragged = row;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", "criterion");
    // marked once the drag has begun (changing the row in dragstart can end it at once)
    setTimeout(function () {
      if (dragged === row) row.classList.add("builder-dragging");
    }, 0);
  });
  form.addEventListener("dragover", function (event) {
    var row = dragged && event.target.closest && event.target.closest("tr.builder-criterion");
    if (!row || row === dragged) return;
    event.preventDefault();
    var box = row.getBoundingClientRect();
    var before = event.clientY < box.top + box.height / 2;
    row.parentElement.insertBefore(dragged, before ? row : row.nextSibling);
  });
  form.addEventListener("dragend", function () {
    if (!dragged) return;
    dragged.classList.remove("builder-dragging");
    dragged.removeAttribute("draggable");
    dragged = null;
    renumber();
    changed();
  });

  // --- Saving -----------------------------------------------------------------------------

  function announce(text, kind) {
    statusLine.textContent = text;
    statusLine.dataset.state = kind || "";
  }

  function pairs() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken") out.push([name, String(value)]);
    });
    return out;
  }

  function keep() {
    try {
      localStorage.setItem(storageKey, JSON.stringify({ at: Date.now(), fields: pairs() }));
    } catch (e) {
      /* storage full or off: the autosave still runs */
    }
  }

  function forget() {
    try {
      localStorage.removeItem(storageKey);
    } catch (e) {
      /* nothing kept */
    }
  }

  function changed() {
    dirty = true;
    edits += 1;
    keep();
    announce(gettext("Unsaved changes…"), "pending");
    clearTimeout(timer);
    timer = setTimeout(save, DELAY);
  }

  function save() {
    clearTimeout(timer);
    if (!dirty) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = true;
    dirty = false;
    var sent = edits;
    announce(gettext("Saving…"), "saving");
    fetch(saveUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          var text = gettext("The server did not answer (%(status)s); sign in again?");
          throw new Error(interpolate(text, { status: response.status }, true));
        }
        return response.json().then(function (body) {
          return { ok: response.ok, body: body };
        });
      })
      .then(function (result) {
        showProblems(result.body.problems || []);
        if (result.ok) {
          showErrors({});
          if (edits === sent) forget();
          var time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
          announce(interpolate(gettext("Saved at %(time)s."), { time: time }, true), "saved");
        } else {
          dirty = true;
          showErrors(result.body.fields || {});
          announce(result.body.message || gettext("Not saved."), "error");
        }
      })
      .catch(function (error) {
        dirty = true;
        var reason = { reason: error.message || gettext("no connection") };
        var text = gettext(
          "Not saved: %(reason)s. Your changes are kept in this browser and saved when the connection is back."
        );
        announce(interpolate(text, reason, true), "error");
      })
      .finally(function () {
        inFlight = false;
        if (again) {
          again = false;
          save();
        }
      });
  }

  function saveOnLeave() {
    if (!dirty && !inFlight) return;
    keep();
    if (navigator.sendBeacon) navigator.sendBeacon(saveUrl, new FormData(form));
  }

  function showProblems(problems) {
    problemsBox.textContent = "";
    if (!problems.length) {
      var ready = document.createElement("p");
      ready.className = "builder-ready";
      ready.textContent = gettext("Ready to publish.");
      problemsBox.appendChild(ready);
      return;
    }
    var list = document.createElement("ul");
    problems.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
    problemsBox.appendChild(list);
  }

  function showErrors(fields) {
    form.querySelectorAll(".builder-error").forEach(function (el) {
      el.remove();
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    });
    var n = 0;
    Object.keys(fields).forEach(function (path) {
      var controls = form.querySelectorAll('[name="' + CSS.escape(path) + '"]');
      var anchor = controls.length ? controls[controls.length - 1].closest("label, fieldset") : null;
      var target = anchor;
      if (!target) {
        // a path of a row or of a list: show it on the row
        var prefix = path + ".";
        var inside = Array.prototype.find.call(form.elements, function (el) {
          return el.name && el.name.indexOf(prefix) === 0;
        });
        target = inside ? inside.closest("[data-item]") : null;
      }
      if (!target) target = form.querySelector(".builder-section");
      n += 1;
      var message = document.createElement("p");
      message.className = "builder-error errorlist";
      message.id = "builder-error-" + n;
      message.textContent = fields[path].join(" ");
      if (target === anchor) target.after(message);
      else target.prepend(message);
      controls.forEach(function (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", message.id);
      });
    });
  }

  // --- Restoring what the browser kept ----------------------------------------------------

  // new rows' keys become the saved rows' own once saved: they are no change
  function comparable(fields) {
    return JSON.stringify(
      fields.filter(function (pair) {
        return !/\.(key|requirement)$/.test(pair[0]);
      })
    );
  }

  function offerRestore() {
    var kept;
    try {
      kept = JSON.parse(localStorage.getItem(storageKey) || "null");
    } catch (e) {
      kept = null;
    }
    if (!kept || !kept.fields) return;
    if (comparable(kept.fields) === comparable(pairs())) {
      forget();
      return;
    }
    var box = document.getElementById("builder-restore");
    box.hidden = false;
    box.addEventListener("click", function (event) {
      var choice = event.target.dataset && event.target.dataset.restore;
      if (choice === "no") {
        forget();
        box.hidden = true;
        announce(gettext("The kept changes were discarded."));
      } else if (choice === "yes") {
        var post = document.createElement("form");
        post.method = "post";
        post.action = "";
        post.hidden = true;
        var fields = [["csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value]].concat(
          kept.fields
        );
        fields.forEach(function (pair) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = pair[0];
          input.value = pair[1];
          post.appendChild(input);
        });
        document.body.appendChild(post);
        forget();
        post.submit();
      }
    });
  }

  // --- Wiring -----------------------------------------------------------------------------

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-add], button[data-action]");
    if (!button) return;
    event.preventDefault();
    if (button.dataset.add) add(button.dataset.add, button);
    else act(button.dataset.action, button);
  });
  form.addEventListener("input", function (event) {
    if (event.target.matches("[data-list='requirements'] [data-field='title']")) {
      refreshRequirementChoices();
    }
    changed();
  });
  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-kind-select]")) showKind(event.target);
    if (event.target.type === "checkbox" || event.target.type === "radio" || event.target.tagName === "SELECT") {
      changed();
    }
  });
  form.addEventListener("focusout", function () {
    if (dirty) save();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    dirty = true;
    save();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") saveOnLeave();
  });
  window.addEventListener("pagehide", saveOnLeave);

  renumber();
  var serverErrors = JSON.parse(document.getElementById("builder-errors").textContent || "{}");
  if (Object.keys(serverErrors).length) {
    showErrors(serverErrors);
    var summary = document.getElementById("builder-error-summary");
    if (summary) summary.hidden = true;
    announce(gettext("Not saved: correct the fields marked below."), "error");
  }
  offerRestore();
})();
