// The queue's bulk bar: "Select all", and only the chosen action's control shown. Without
// JavaScript every control shows and the server still reads only the chosen action's.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", () => {
      document.querySelectorAll('input[name="ticket_ids"]').forEach((box) => { box.checked = all.checked; });
    });
  }
  const action = document.getElementById("bulk-action");
  if (!action) return;
  const controls = document.querySelectorAll(".bulkbar [data-for]");
  const show = () => {
    controls.forEach((control) => {
      const mine = control.dataset.for === action.value;
      // Disabled as well as hidden: a hidden control's value is not even sent.
      control.hidden = !mine;
      control.disabled = !mine;
    });
  };
  action.addEventListener("change", show);
  show();
});
