/*
 * The pipeline board's drag and drop: drop a card on another column, or on Won or Lost, to move the deal.
 *
 * The server does the move: this posts to the same endpoint as each card's "Move" form (which works
 * without this script, and from the keyboard) and htmx swaps in the re-rendered board it answers with.
 * Listeners sit on the document, so they keep working after the board is swapped.
 */
(function () {
  "use strict";

  var dragged = null;

  function dropTargetOf(event) {
    if (!(event.target instanceof Element)) {
      return null;
    }
    var target = event.target.closest("[data-drop-stage]");
    return target && target.closest("#board") ? target : null;
  }

  function clearHighlights() {
    document.querySelectorAll(".board-drop-active").forEach(function (element) {
      element.classList.remove("board-drop-active");
    });
  }

  function move(card, stageId) {
    var form = card.querySelector("form.board-move");
    var board = document.getElementById("board");
    if (!form) {
      return;
    }
    if (!window.htmx) {
      // No htmx: submit the card's own form, a full page round trip.
      form.elements.stage.value = stageId;
      form.submit();
      return;
    }
    board.setAttribute("aria-busy", "true");
    window.htmx.ajax("POST", card.dataset.moveUrl, {
      source: card,
      target: "#board",
      swap: "outerHTML",
      values: { stage: stageId, next: board.dataset.next || "" },
      headers: { "X-CSRFToken": form.elements.csrfmiddlewaretoken.value },
    });
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target instanceof Element ? event.target.closest(".board-card[data-move-url]") : null;
    if (!card) {
      return;
    }
    dragged = card;
    card.classList.add("board-card-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.deal);
  });

  document.addEventListener("dragover", function (event) {
    var target = dropTargetOf(event);
    if (!dragged || !target) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!target.classList.contains("board-drop-active")) {
      clearHighlights();
      target.classList.add("board-drop-active");
    }
  });

  document.addEventListener("dragleave", function (event) {
    var target = dropTargetOf(event);
    if (target && !(event.relatedTarget instanceof Node && target.contains(event.relatedTarget))) {
      target.classList.remove("board-drop-active");
    }
  });

  document.addEventListener("drop", function (event) {
    var target = dropTargetOf(event);
    if (!dragged || !target) {
      return;
    }
    event.preventDefault();
    clearHighlights();
    var card = dragged;
    dragged = null;
    if (card.closest("[data-drop-stage]") === target) {
      card.classList.remove("board-card-dragging");
      return; // dropped where it already is
    }
    move(card, target.dataset.dropStage);
  });

  document.addEventListener("dragend", function () {
    clearHighlights();
    if (dragged) {
      dragged.classList.remove("board-card-dragging");
      dragged = null;
    }
  });
})();
