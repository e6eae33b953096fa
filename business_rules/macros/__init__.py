"""Macros: canned replies with actions, applied by an agent from the reply box.

A macro is a text with the triggers' {{placeholders}} (business_rules/placeholders.py, the
same whitelisted renderer) and actions that change the ticket (status, priority, group,
assignee, tags: the triggers' own actions, business_rules/actions.py). Shared macros belong
to admins (Django admin); agents keep personal ones on their own page.

The agent picks one in the reply box (picker.js): its text, rendered for this ticket, goes
into the box; its actions are listed there and applied when the reply is submitted
(`tickets.replies.register_after_reply`), never before, so an agent who changes their mind
has changed nothing. Each use is counted.
"""
