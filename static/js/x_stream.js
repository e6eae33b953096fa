// "Select all" for the incoming stream's bulk conversion. Without JavaScript the boxes still
// work one by one.
document.addEventListener("DOMContentLoaded", () => {
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll('input[name="item_ids"]').forEach((box) => { box.checked = all.checked; });
  });
});
