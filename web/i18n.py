"""German by default, English on request: a small message catalogue and a locale switch.

German is the source language of every message; ``ENGLISH`` maps it to English. A missing
entry falls back to German, and a test checks the catalogue covers every template string.
"""

from __future__ import annotations

from datetime import date

from flask import Flask, session

from planner.timefmt import hhmm

LANGUAGES = ("de", "en")

ENGLISH: dict[str, str] = {
    "Rufbus Salzland": "Rufbus Salzland (on-demand bus)",
    "Fahrt buchen": "Book a ride",
    "Buchung ansehen": "Look up a booking",
    "Disposition": "Dispatch",
    "Anmelden": "Log in",
    "Abmelden": "Log out",
    "Sprache": "Language",
    "Von (Haltestelle)": "From (stop)",
    "Nach (Haltestelle)": "To (stop)",
    "Name der Haltestelle eingeben, z. B. Bernburg Busbahnhof": (
        "Type a stop name, e.g. Bernburg Busbahnhof"
    ),
    "Datum": "Date",
    "Uhrzeit": "Time",
    "Abholen um": "Pick me up at",
    "Ankommen bis": "Arrive by",
    "Personen": "People",
    "davon im Rollstuhl": "of whom in a wheelchair",
    "Fahrten suchen": "Find rides",
    "Haltestelle auf der Karte wählen": "Pick a stop on the map",
    "Meinten Sie:": "Did you mean:",
    "Karte der Haltestellen": "Map of the stops",
    "als Start": "as start",
    "als Ziel": "as destination",
    "Angebote": "Offers",
    "Abholung": "Pickup",
    "an": "at",
    "Ankunft etwa": "arrival about",
    "Diese Fahrt buchen": "Book this ride",
    "Leider kein Angebot": "Sorry, no offer",
    "Diese Zeiten wären möglich:": "These times would work:",
    "Neue Suche": "New search",
    "Ihre Angaben": "Your details",
    "Name": "Name",
    "Telefon": "Phone",
    "Hinweis für den Fahrer (freiwillig)": "Note for the driver (optional)",
    "Verbindlich buchen": "Confirm booking",
    "Gebucht!": "Booked!",
    "Ihr Buchungscode": "Your booking code",
    "Code kopieren": "Copy code",
    "Drucken": "Print",
    "Bitte notieren Sie den Code. Sie brauchen ihn zum Ansehen oder Stornieren.": (
        "Please keep this code. You need it to look up or cancel the ride."
    ),
    "Buchungscode": "Booking code",
    "Anzeigen": "Show",
    "Status": "Status",
    "bestätigt": "confirmed",
    "storniert": "cancelled",
    "nicht erschienen": "no-show",
    "Fahrt stornieren": "Cancel this ride",
    "Die Fahrt wurde storniert.": "The ride was cancelled.",
    "Fahrzeug": "Vehicle",
    "Fehler": "Error",
    "Benutzername": "User name",
    "Passwort": "Password",
    "Tagesansicht": "Day view",
    "Telefonbuchung": "Phone booking",
    "Kennzahlen": "Key figures",
    "Zeit": "Time",
    "Haltestelle": "Stop",
    "Einstieg": "Boarding",
    "Ausstieg": "Alighting",
    "Besetzung": "Load",
    "Fahrtenblatt": "Manifest",
    "als CSV": "as CSV",
    "Karte aller Touren": "Map of all routes",
    "Zeitleiste": "Timeline",
    "Pause": "Break",
    "Pausen": "Breaks",
    "Neu optimieren": "Re-optimise",
    "vorher": "before",
    "nachher": "after",
    "Anfragen": "Requests",
    "bedient": "served",
    "abgelehnt": "rejected",
    "Fahrgäste je Fahrzeugstunde": "Passengers per vehicle-hour",
    "Bündelungsquote": "Pooling rate",
    "Leerkilometer": "Empty km",
    "Wartezeit Mittel / 95 %": "Wait mean / 95 %",
    "Fahrtzeit Mittel / 95 %": "Ride mean / 95 %",
    "Fahrzeugstunden": "Vehicle-hours",
    "Keine Fahrten an diesem Tag.": "No rides on this day.",
    "Nicht erschienen": "No-show",
    "Stornieren": "Cancel",
    "Anrufer": "Caller",
    "Tag wählen": "Choose a day",
    "Anzeigen für": "Show for",
    "Abfahrt Depot": "Leaves depot",
    "Rückkehr": "Returns",
    "Fahrtenblatt drucken": "Print manifest",
    "Gespeichert": "Stored",
    "Nicht gespeichert": "Not stored",
    "Kartendaten": "Map data",
    "Fahrplandaten": "Timetable data",
    "Grenzen": "Boundaries",
    "Analyse": "Analysis",
    "Noch keine Szenarien.": "No scenario batches yet.",
    "Zu viele Anmeldeversuche. Bitte warten Sie einige Minuten.": (
        "Too many login attempts. Please wait a few minutes."
    ),
    "Benutzername oder Passwort falsch.": "Wrong user name or password.",
    "Zu viele Anfragen von Ihrer Adresse.": "Too many requests from your address.",
    "Zu viele Anmeldeversuche.": "Too many login attempts.",
    "Bitte versuchen Sie es in %(seconds)s Sekunden noch einmal.": (
        "Please try again in %(seconds)s seconds."
    ),
    "Zum Inhalt springen": "Skip to content",
    "Fahrgast": "Rider",
    "Personen an Bord": "People on board",
    "Rollstuhl": "wheelchair",
    "Linie": "Line",
    "ab": "from",
    "Ankunft": "arrival",
    "dann": "then",
    "Fußweg": "walk",
    "Min.": "min",
    "Mit dem Linienbus": "By scheduled bus",
    "Zu dieser Zeit fährt ein Linienbus. Der Rufbus fährt nur, wo und wann keine Linie fährt.": (
        "A scheduled bus runs at this time. The on-demand bus runs only where and when no "
        "scheduled line does."
    ),
    "Oder kombiniert mit einer Linie:": "Or combined with a scheduled line:",
    "Rufbus bis": "On-demand bus to",
    "Ankunft bis": "arriving by",
    "Anschluss": "Connection",
    "Uhr": "",
    "Der Fahrplan der Linienbusse endet am %(day)s.": (
        "The scheduled lines' timetable ends on %(day)s."
    ),
    "Bitte spielen Sie vorher einen neuen Fahrplan (GTFS) ein.": (
        "Please load a new timetable (GTFS) before then."
    ),
    "Danach gilt keine Linie als bekannt, und der Rufbus wird für jede Fahrt angeboten.": (
        "After that date no scheduled line is known, and the on-demand bus is offered for "
        "every trip."
    ),
    # personal data: retention, access and erasure
    "Bitte keine Angaben zur Gesundheit.": "Please do not enter any health details.",
    "Name, Telefon und Hinweis werden {days} Tage nach der Fahrt automatisch gelöscht.": (
        "Name, phone and note are erased automatically {days} days after the ride."
    ),
    "Buchung suchen": "Find booking",
    "Rückfahrt": "Return trip",
    "Datenschutz": "Data protection",
    "Personenbezogene Daten gelöscht": "Personal data erased",
    "Auskunft herunterladen (JSON)": "Download the rider's data (JSON)",
    "Auskunft mit allen Buchungen derselben Telefonnummer": (
        "Rider's data with all bookings of the same phone number"
    ),
    "Daten auf Wunsch löschen": "Erase data on request",
    "Name, Telefon und Hinweis dieser Buchung, ihrer Rückfahrt und ihrer Dauerbuchung werden "
    "endgültig gelöscht. Die Fahrt selbst (Zeiten, Haltestellen, Personen) bleibt für die "
    "Kennzahlen erhalten.": (
        "Name, phone and note of this booking, its return trip and its standing booking are "
        "erased for good. The ride itself (times, stops, people) stays for the key figures."
    ),
    "Auch alle anderen Buchungen mit derselben Telefonnummer": (
        "Also every other booking with the same phone number"
    ),
    "Endgültig löschen": "Erase for good",
    "Abbrechen": "Cancel",
    "Die Daten sind bereits gelöscht.": "The data are already erased.",
    "Die Fahrt ist noch bestätigt. Bitte zuerst stornieren.": (
        "The ride is still confirmed. Please cancel it first."
    ),
    # cancel and no-show: asked first, named
    "Fahrt stornieren?": "Cancel this ride?",
    "Nicht erschienen eintragen?": "Record a no-show?",
    "Die Fahrt von %(rider)s am %(day)s, Abholung %(start)s bis %(end)s Uhr, wird storniert. "
    "Der Platz wird sofort frei.": (
        "The ride of %(rider)s on %(day)s, pickup %(start)s to %(end)s, will be cancelled. "
        "The seat is free at once."
    ),
    "%(rider)s ist am %(day)s zur Abholung %(start)s bis %(end)s Uhr nicht erschienen. "
    "Der Bus wartet nicht länger.": (
        "%(rider)s did not turn up on %(day)s for the pickup %(start)s to %(end)s. "
        "The bus waits no longer."
    ),
    "Diese Buchung ist nicht mehr bestätigt.": "This booking is no longer confirmed.",
    "Nicht erschienen kann erst ab Beginn des Abholfensters (%(time)s) eingetragen werden.": (
        "A no-show can be recorded only once the pickup window has started (%(time)s)."
    ),
    "Von": "From",
    "Nach": "To",
    "Zurück zur Tagesansicht": "Back to the day view",
    "Ja, stornieren": "Yes, cancel",
    "Ja, nicht erschienen": "Yes, did not turn up",
    "Nein, zurück": "No, go back",
    "Hinweis": "Note",
    "Abholfenster": "Pickup window",
    "Aktion": "Action",
    "Zählen Sie alle Mitfahrenden, auch Personen im Rollstuhl. Zwei Personen, davon eine im "
    "Rollstuhl: Personen 2, davon im Rollstuhl 1.": (
        "Count everyone who travels, wheelchair users included. Two people, one of them in a "
        "wheelchair: people 2, of whom in a wheelchair 1."
    ),
    # the drivers' API: why an event is refused
    "Kein Fahrzeug %(vehicle)s.": "No vehicle %(vehicle)s.",
    "Der Zeitpunkt liegt mehr als %(minutes)s Minuten in der Zukunft.": (
        "The time is more than %(minutes)s minutes in the future."
    ),
    "Keine Haltestelle %(stop)s.": "No stop %(stop)s.",
    "Keine Buchung %(code)s.": "No booking %(code)s.",
    "Die Buchung %(code)s fährt an diesem Tag nicht mit diesem Fahrzeug.": (
        "Booking %(code)s does not ride with this vehicle on this day."
    ),
    "Die Buchung %(code)s ist nicht mehr bestätigt (%(status)s).": (
        "Booking %(code)s is no longer confirmed (%(status)s)."
    ),
    "Nicht erschienen erst nach der Ankunft an der Haltestelle eintragen.": (
        "Record a no-show only after arriving at the stop."
    ),
    "Nicht erschienen kann erst ab %(time)s Uhr eingetragen werden.": (
        "A no-show can be recorded only from %(time)s."
    ),
    "Abgelehnt: %(detail)s": "Refused: %(detail)s",
    # the driver app (web/driver.py, templates/driver, static/driver.js)
    "Fahrer": "Driver",
    "Heute": "Today",
    "Wählen Sie Ihr Fahrzeug für die Schicht.": "Choose your vehicle for the shift.",
    "erster Halt": "first stop",
    "Halte": "stops",
    "Heute fährt kein Fahrzeug.": "No vehicle drives today.",
    "Nicht angenommen": "Not accepted",
    "Verstanden": "Understood",
    "Navigation starten": "Start navigation",
    "Route in OpenStreetMap": "Route in OpenStreetMap",
    "Angekommen": "Arrived",
    "Angekommen %(time)s": "Arrived %(time)s",
    "Abgefahren": "Departed",
    "Abgefahren %(time)s": "Departed %(time)s",
    "Eingestiegen": "Boarded",
    "Eingestiegen %(time)s": "Boarded %(time)s",
    "Nicht erschienen %(time)s": "No-show %(time)s",
    "Ausgestiegen": "Got off",
    "Ausgestiegen %(time)s": "Got off %(time)s",
    "1 Person": "1 person",
    "%(count)s Personen": "%(count)s people",
    "An Bord nach dem Halt": "On board after the stop",
    "Neuen Plan laden": "Load the new plan",
    "Schicht": "Shift",
    "Schicht beginnen": "Start shift",
    "Schicht beenden": "End shift",
    "Schicht wirklich beenden?": "Really end the shift?",
    "Ja, Schicht beenden": "Yes, end the shift",
    "1 erledigter Halt": "1 stop done",
    "%(count)s erledigte Halte": "%(count)s stops done",
    "Keine weiteren Halte.": "No more stops.",
    "Pause beginnen": "Start break",
    "Pause beenden": "End break",
    "Aufgehalten: Minuten, bis es weitergeht": "Held up: minutes until you can drive on",
    "Aufenthalt melden": "Report hold-up",
    "Panne melden": "Report breakdown",
    "Panne wirklich melden? Die Disposition verteilt Ihre Fahrgäste auf andere Fahrzeuge.": (
        "Really report a breakdown? Dispatch moves your riders to other vehicles."
    ),
    "Ja, Panne melden": "Yes, report the breakdown",
    "Zur Fahrzeugauswahl": "Back to the vehicles",
    "1 Meldung wartet auf Netz": "1 report waits for the network",
    "%(count)s Meldungen warten auf Netz": "%(count)s reports wait for the network",
    "Alle Meldungen gesendet": "All reports sent",
    "möglich ab %(time)s": "possible from %(time)s",
    "möglich nach der Ankunft": "possible after arriving",
    "Pause seit %(time)s": "On break since %(time)s",
    "Schicht seit %(time)s": "On shift since %(time)s",
    "Schicht beendet %(time)s": "Shift ended %(time)s",
    "Aufenthalt von %(minutes)s min gemeldet": "Hold-up of %(minutes)s min reported",
    "Panne gemeldet %(time)s": "Breakdown reported %(time)s",
    "Bitte neu anmelden, damit die Meldungen gesendet werden.": (
        "Please log in again so that the reports can be sent."
    ),
    "Der Plan hat sich geändert.": "The plan has changed.",
    "Ohne Netz: Liste von %(time)s": "No network: list as of %(time)s",
    "Standort nicht verfügbar": "Location not available",
    # the dispatcher's live view (dispatch/live.html, static/live.js)
    "Live-Lage": "Live view",
    "Die Live-Lage braucht JavaScript.": "The live view needs JavaScript.",
    "Schließen": "Close",
    "Gefährdete Buchungen": "Bookings at risk",
    "Karte der Fahrzeuge": "Map of the vehicles",
    "Kreis: Fahrzeug an seiner letzten Position, mit Verspätung. Ring: sein nächster Halt.": (
        "Dot: a vehicle at its last position, with its delay. Ring: its next stop."
    ),
    "Fahrzeuge": "Vehicles",
    "ab (Uhrzeit)": "from (time)",
    "Ja, außer Dienst nehmen": "Yes, take it out of service",
    "Verspätung": "Delay",
    "An Bord": "On board",
    "Nächster Halt": "Next stop",
    "Position": "Position",
    "noch nicht unterwegs": "not started",
    "nicht im Dienst": "idle, not on shift",
    "unterwegs": "on the road",
    "in Pause": "on a break",
    "außer Dienst": "out of service",
    "Dienst beendet": "finished",
    "Abholung nach dem zugesagten Fenster": "pickup after the promised window",
    "Fahrtzeit länger als zugesagt": "ride longer than promised",
    "Ankunft nach der zugesagten Zeit": "arrival after the promised time",
    "Fahrzeug außer Dienst": "vehicle out of service",
    "keine Position": "no position",
    "Position von %(time)s": "position of %(time)s",
    "%(minutes)s min": "%(minutes)s min",
    "pünktlich": "on time",
    "Keine Buchung gefährdet.": "No booking at risk.",
    "Aktualisiert %(clock)s, Lage um %(time)s Uhr": "Updated %(clock)s, state at %(time)s",
    "Aktualisierung fehlgeschlagen; neuer Versuch in %(seconds)s s.": (
        "Update failed; trying again in %(seconds)s s."
    ),
    "Fenster %(from)s–%(to)s": "window %(from)s–%(to)s",
    "erwartet %(time)s": "expected %(time)s",
    "Auf Fahrzeug verschieben": "Move to vehicle",
    "Neues Fahrzeug für %(code)s": "New vehicle for %(code)s",
    "%(code)s fährt jetzt mit %(vehicle)s: Abholung etwa %(pickup)s, Ankunft etwa %(arrival)s.": (
        "%(code)s now rides with %(vehicle)s: pickup about %(pickup)s, arrival about %(arrival)s."
    ),
    "Nicht verschoben: %(vehicle)s kann die Fahrt nicht übernehmen, ohne eine Zusage zu brechen.": (
        "Not moved: %(vehicle)s cannot take the ride without breaking a promise."
    ),
    "Nicht verschoben: Der Fahrgast ist schon eingestiegen oder die Buchung ist nicht mehr "
    "bestätigt.": (
        "Not moved: the rider has boarded already, or the booking is no longer confirmed."
    ),
    "Fehler: %(message)s": "Error: %(message)s",
    "Außer Dienst nehmen": "Take out of service",
    "%(vehicle)s ab %(time)s Uhr außer Dienst nehmen? Seine Fahrten werden auf andere Fahrzeuge "
    "verteilt, wo jede Zusage hält.": (
        "Take %(vehicle)s out of service from %(time)s? Its rides move to other vehicles "
        "wherever every promise holds."
    ),
    "%(vehicle)s ist seit %(time)s Uhr außer Dienst": (
        "%(vehicle)s is out of service since %(time)s"
    ),
    "Umverteilt": "Moved",
    "%(code)s → %(vehicle)s, Abholung etwa %(pickup)s": (
        "%(code)s → %(vehicle)s, pickup about %(pickup)s"
    ),
    "Keine Fahrt umverteilt.": "No ride moved.",
    "Bitte anrufen": "Please call",
    "Niemand muss angerufen werden.": "Nobody needs a call.",
    "sitzt im Fahrzeug": "is on board the vehicle",
    "mögliche Zeiten: %(times)s": "possible times: %(times)s",
    "keine andere Zeit möglich": "no other time possible",
    "%(vehicle)s, %(delay)s": "%(vehicle)s, %(delay)s",
    "nächster Halt von %(vehicle)s: %(stop)s": "next stop of %(vehicle)s: %(stop)s",
    # refusals and errors said in words (web/messages.py)
    "Fahrten können ab heute bis zu %(days)s Tage im Voraus gebucht werden.": (
        "Rides can be booked from today up to %(days)s days ahead."
    ),
    "Der Bus fährt von %(first)s bis %(last)s Uhr.": "The bus runs from %(first)s to %(last)s.",
    "Bitte buchen Sie mindestens %(minutes)s Minuten vor der Abholung.": (
        "Please book at least %(minutes)s minutes before the pickup."
    ),
    "Fahrten ab %(from)s Uhr müssen am selben Tag bis %(deadline)s Uhr gebucht werden.": (
        "Rides from %(from)s must be booked by %(deadline)s on the same day."
    ),
    "Kein Bus hat Platz für so viele Personen oder Rollstühle.": (
        "No bus has room for so many people or wheelchairs."
    ),
    "Die Haltestellen liegen nur %(distance_m)s m auseinander. "
    "Der Rufbus fährt erst ab %(min_km)s km.": (
        "The stops are only %(distance_m)s m apart. The on-demand bus takes trips of "
        "%(min_km)s km or more."
    ),
    "Linie %(lines)s fährt um %(departure)s Uhr ab und kommt um %(arrival)s Uhr an. "
    "Der Rufbus fährt nur, wo und wann keine Linie fährt.": (
        "Line %(lines)s leaves at %(departure)s and arrives at %(arrival)s. The on-demand "
        "bus runs only where and when no scheduled line does."
    ),
    "Zu dieser Zeit ist kein Bus frei.": "No bus is free at this time.",
    "Die gewünschte Zeit ist schon vorbei.": "The time you chose has already passed.",
    "Start und Ziel sind dieselbe Haltestelle.": "Start and destination are the same stop.",
    "Höchstens %(max)s Personen je Buchung. Für größere Gruppen rufen Sie bitte die "
    "Disposition an.": (
        "At most %(max)s people per booking. For larger groups please call the dispatcher."
    ),
    "Dieses Angebot ist schon gebucht.": "This offer has already been booked.",
    "Dieses Angebot ist abgelaufen. Bitte suchen Sie die Fahrt noch einmal.": (
        "This offer has expired. Please search for the ride again."
    ),
    "Dieses Angebot ist inzwischen vergeben. Bitte suchen Sie die Fahrt noch einmal.": (
        "This offer has been taken meanwhile. Please search for the ride again."
    ),
    "Die Haltestelle „%(name)s“ wurde nicht gefunden. Bitte wählen Sie eine Haltestelle "
    "aus der Liste oder auf der Karte.": (
        "The stop “%(name)s” was not found. Please choose a stop from the list or on the map."
    ),
    "„%(name)s“ passt zu mehreren Haltestellen. Bitte wählen Sie eine aus.": (
        "“%(name)s” fits several stops. Please choose one."
    ),
    "Bitte füllen Sie „%(label)s“ aus.": "Please fill in “%(label)s”.",
    "„%(label)s“: mindestens %(ge)s.": "“%(label)s”: at least %(ge)s.",
    "„%(label)s“: höchstens %(le)s.": "“%(label)s”: at most %(le)s.",
    "„%(label)s“: Bitte geben Sie eine ganze Zahl ein.": (
        "“%(label)s”: please enter a whole number."
    ),
    "„%(label)s“: höchstens %(max_length)s Zeichen.": (
        "“%(label)s”: at most %(max_length)s characters."
    ),
    "Bitte geben Sie ein gültiges Datum an.": "Please enter a valid date.",
    "Bitte geben Sie eine Uhrzeit wie 08:10 an.": "Please enter a time such as 08:10.",
    "Es können nicht mehr Personen im Rollstuhl sein, als Personen mitfahren.": (
        "There cannot be more people in a wheelchair than people travelling."
    ),
    "Es muss mindestens eine Person mitfahren.": "At least one person must travel.",
    "Bitte geben Sie eine Telefonnummer mit mindestens 5 Ziffern an.": (
        "Please enter a phone number with at least 5 digits."
    ),
    "Die Haltestelle „%(value)s“ wurde nicht gefunden. Bitte wählen Sie eine Haltestelle "
    "aus der Liste oder auf der Karte.": (
        "The stop “%(value)s” was not found. Please choose a stop from the list or on the map."
    ),
    "Bitte prüfen Sie „%(label)s“.": "Please check “%(label)s”.",
    "Bitte prüfen Sie Ihre Angaben.": "Please check your details.",
    # honest times: how an offer differs from the wish, and what the arrival time is
    "Sie wollten um %(wish)s Uhr fahren. Der Bus kann Sie zwischen %(start)s und "
    "%(end)s Uhr abholen – %(minutes)s früher.": (
        "You wanted to leave at %(wish)s. The bus can pick you up between %(start)s and "
        "%(end)s – %(minutes)s earlier."
    ),
    "Sie wollten um %(wish)s Uhr fahren. Der Bus kann Sie zwischen %(start)s und "
    "%(end)s Uhr abholen – %(minutes)s später.": (
        "You wanted to leave at %(wish)s. The bus can pick you up between %(start)s and "
        "%(end)s – %(minutes)s later."
    ),
    "Sie wollten bis %(wish)s Uhr ankommen. Mit dieser Fahrt sind Sie spätestens um "
    "%(latest)s Uhr am Ziel – %(minutes)s früher.": (
        "You wanted to arrive by %(wish)s. With this ride you are at the destination by "
        "%(latest)s at the latest – %(minutes)s earlier."
    ),
    "Sie wollten bis %(wish)s Uhr ankommen. Mit dieser Fahrt sind Sie spätestens um "
    "%(latest)s Uhr am Ziel – %(minutes)s später.": (
        "You wanted to arrive by %(wish)s. With this ride you are at the destination by "
        "%(latest)s at the latest – %(minutes)s later."
    ),
    "1 Minute": "1 minute",
    "%(count)s Minuten": "%(count)s minutes",
    "Abholung zwischen %(start)s und %(end)s Uhr an %(stop)s": (
        "Pickup between %(start)s and %(end)s at %(stop)s"
    ),
    "Ankunft am Ziel (%(stop)s) voraussichtlich gegen %(time)s Uhr": (
        "Arrival at the destination (%(stop)s) expected around %(time)s"
    ),
    "Zugesagt ist das Abholfenster: Bitte seien Sie in dieser Zeit an der Haltestelle. "
    "Die Ankunftszeit am Ziel ist eine Schätzung.": (
        "What we promise is the pickup window: please be at the stop during that time. "
        "The arrival time at the destination is an estimate."
    ),
    "Ankunft am Ziel": "Arrival at the destination",
    "voraussichtlich gegen %(time)s Uhr (geschätzt)": "expected around %(time)s (estimate)",
    "Ihr Wunsch": "Your wish",
    "Ein besserer Plan wurde gespeichert.": "A better plan was stored.",
    "An diesem Tag gibt es keine Buchungen.": "There are no bookings on this day.",
    "Der neue Plan hätte eine Zusage gebrochen; der bisherige bleibt.": (
        "The new plan would have broken a promise; the current one stays."
    ),
    "Der bisherige Plan ist schon so gut; er bleibt.": (
        "The current plan is already as good; it stays."
    ),
    "Inzwischen haben sich Buchungen geändert. Bitte versuchen Sie es noch einmal.": (
        "Bookings changed meanwhile. Please try again."
    ),
    # --- analysts
    "Szenario-Lauf": "Scenario batch",
    "Läufe: %(runs)s, davon fertig: %(finished)s, fehlgeschlagen: %(failed)s.": (
        "Runs: %(runs)s, finished: %(finished)s, failed: %(failed)s."
    ),
    "Typischer Lauf (Ablehnungsquote nahe dem Median): %(run)s, simulierter Tag %(day)s.": (
        "Typical run (rejection rate nearest the median): %(run)s, simulated day %(day)s."
    ),
    "Kennzahlen je Lauf": "KPIs per run",
    "Kein Lauf ist fertig geworden.": "No run finished.",
    "Fehlgeschlagene Läufe": "Failed runs",
    "Lauf": "Run",
    "Wählen Sie zwei oder mehr Läufe und vergleichen Sie ihre Kennzahlen.": (
        "Choose two or more batches and compare their KPIs."
    ),
    "Läufe": "Runs",
    "fehlgeschlagen": "failed",
    "Bericht": "Report",
    "Bericht %(name)s": "Report %(name)s",
    "Ausgewählte Läufe vergleichen": "Compare the chosen batches",
    "Szenario-Läufe im Vergleich": "Scenario batches compared",
    "Alle Szenario-Läufe": "All scenario batches",
    "Mittelwerte der fertigen Läufe je Szenario-Lauf und variiertem Wert. Unter jedem Wert "
    "steht der Unterschied zu %(first)s beim gleichen variierten Wert, mit „besser“ oder "
    "„schlechter“.": (
        "Means of the finished runs per batch and swept value. Below each value is its "
        "difference to %(first)s at the same swept value, marked “better” or “worse”."
    ),
    "besser": "better",
    "schlechter": "worse",
    "Bitte wählen Sie mindestens zwei Szenario-Läufe.": (
        "Please choose at least two scenario batches."
    ),
    "%(sign)s%(points)s Prozentpunkte": "%(sign)s%(points)s percentage points",
    "Kein Szenario-Lauf „%(name)s“.": "No scenario batch “%(name)s”.",
    "Einzelfahrgäste": "single riders",
    "Gruppen": "groups",
    "Rollstuhlnutzer": "wheelchair users",
    "Busse im Einsatz": "buses used",
    "Fahrzeug-km": "vehicle-km",
    "Leer-km": "empty km",
    "mittlere Besetzung": "mean occupancy",
    "Abweichung vom Wunsch, Mittel (min)": "wait vs wish, mean (min)",
    "Abweichung vom Wunsch, 95 % (min)": "wait vs wish, p95 (min)",
    "Fahrzeit, Mittel (min)": "ride time, mean (min)",
    "Fahrzeit, 95 % (min)": "ride time, p95 (min)",
    "Umwegfaktor, Mittel": "detour factor, mean",
    "Rechenzeit (s)": "solver time (s)",
    "Einnahmen (€, ohne Tarif: –)": "revenue (€, no tariff: –)",
    "Einnahmen je Lauf im Mittel (Fahrpreise der bedienten Buchungen): %(revenue)s": (
        "Mean revenue per run (the fares of the served bookings): %(revenue)s"
    ),
    "Busse": "buses",
    "Sitzplätze je Bus": "seats per bus",
    "Rollstuhlplätze je Bus": "wheelchair places per bus",
    "Anfragen pro Tag": "requests per day",
    "Seed": "seed",
    "Kennzahlen über dem variierten Parameter (Mittel über die Seeds)": (
        "KPIs against the swept parameter (mean over seeds)"
    ),
    "Ablehnungsquote nach Fahrgastgruppe": "Rejection rate by rider group",
    "Fahrzeuge über den Tag des typischen Laufs": "Vehicles over the day of the typical run",
    "Bediente und abgelehnte Fahrten dieses Tages": "Served and rejected trips of that day",
    "abgelehnter Anteil": "rejected share",
    "Anteil abgelehnter Anfragen": "Share of requests rejected",
    "Fahrgastgruppe": "rider group",
    "Uhrzeit (| oben: Einstieg, | unten: Ausstieg)": (
        "time of day (| above: boarding, | below: alighting)"
    ),
    # --- fares
    "Fahrpreis": "Fare",
    "steht noch nicht fest": "not set yet",
    "Bitte fragen Sie bei der Rufbus-Zentrale nach.": "Please ask the Rufbus hotline.",
    "Rufbus-Zentrale": "Rufbus hotline",
    "Die Telefonnummer wird noch bekannt gegeben.": "The number will be announced.",
    "%(total)s für %(people)s Personen": "%(total)s for %(people)s people",
    "je Person %(fare)s Fahrpreis und %(surcharge)s Rufbus-Zuschlag": (
        "per person %(fare)s fare and %(surcharge)s on-demand surcharge"
    ),
    "Kinder zahlen %(share)s des Fahrpreises.": "Children pay %(share)s of the fare.",
    "Mit Ermäßigung zahlen Sie %(share)s des Fahrpreises.": (
        "With a reduced fare you pay %(share)s of the fare."
    ),
    "Das Deutschlandticket gilt im Rufbus nicht.": (
        "The Deutschlandticket is not valid on the Rufbus."
    ),
    "Mit Deutschlandticket zahlen Sie nur den Zuschlag von %(surcharge)s je Person.": (
        "With a Deutschlandticket you pay only the surcharge of %(surcharge)s per person."
    ),
    "Mit Deutschlandticket fahren Sie ohne Aufpreis.": (
        "With a Deutschlandticket you travel at no extra cost."
    ),
    "Einnahmen": "Revenue",
    "nicht konfiguriert": "not configured",
    # --- mapride
    "Tippen Sie auf eine Haltestelle. Eine Zahl steht für mehrere Haltestellen: antippen "
    "vergrößert die Karte. Mit der Tastatur: Tab springt von Haltestelle zu Haltestelle, die "
    "Eingabetaste wählt.": (
        "Tap a stop. A number stands for several stops: tap it to zoom in. With the keyboard: "
        "Tab goes from stop to stop, Enter chooses."
    ),
    "Auch in der Nähe:": "Also nearby:",
    "%(count)s Haltestellen, vergrößern": "%(count)s stops, zoom in",
    "Ihr Bus kommt voraussichtlich um %(time)s Uhr.": (
        "Your bus is expected to arrive at %(time)s."
    ),
    "Geschätzt um %(now)s Uhr aus den Meldungen des Fahrers; die Zeit kann sich noch ändern.": (
        "Estimated at %(now)s from the driver's reports; the time may still change."
    ),
    "Das ist später als zugesagt. Bitte entschuldigen Sie die Verspätung.": (
        "That is later than promised. We apologise for the delay."
    ),
    "Ihr Bus heute": "Your bus today",
    "voraussichtlich gegen %(time)s Uhr (geschätzt um %(now)s Uhr)": (
        "expected at about %(time)s (estimated at %(now)s)"
    ),
    "Wenn der Bus nicht kommt": "If the bus does not come",
    "Bitte seien Sie ab %(start)s Uhr an der Haltestelle. Wenn der Bus %(minutes)s Minuten nach "
    "dem Ende des Zeitfensters, also um %(time)s Uhr, noch nicht da ist, rufen Sie bitte die "
    "Rufbus-Zentrale an.": (
        "Please be at the stop from %(start)s. If the bus is still not there %(minutes)s minutes "
        "after the end of the time window, that is at %(time)s, please call the Rufbus hotline."
    ),
    # --- dflows (booking changes, re-optimisation preview, phone booking)
    "%(code)s geändert: Abholung %(start)s–%(end)s Uhr am %(day)s.": (
        "%(code)s changed: pickup %(start)s–%(end)s on %(day)s."
    ),
    "Dieser Vorschlag ist nicht mehr vorhanden.": "This proposal no longer exists.",
    "Fahrzeuge im Einsatz": "Vehicles in use",
    "Fahrzeugkilometer": "Vehicle-km",
    "Wartezeit Mittel": "Wait, mean",
    "Wartezeit 95 %": "Wait, 95th percentile",
    "Fahrtzeit Mittel": "Ride time, mean",
    "Fahrtzeit 95 %": "Ride time, 95th percentile",
    "Fahrt ändern": "Change trip",
    "Ändern Sie Zeit, Haltestellen oder Personen. Die Buchung behält ihren Code; bis Sie eine "
    "neue Fahrt übernehmen, bleibt die bisherige bestehen.": (
        "Change the time, the stops or the party. The booking keeps its code; until you take "
        "a new trip, the current one stands."
    ),
    "Zurück zur Buchung": "Back to the booking",
    "Neue Fahrt für die Buchung %(code)s. Bis Sie eine übernehmen, bleibt die bisherige "
    "Fahrt bestehen.": (
        "New trip for booking %(code)s. Until you take one, the current trip stands."
    ),
    "Änderung übernehmen": "Take this change",
    "Vorschlag": "Proposal",
    "Kennzahl": "Key figure",
    "bisher": "current",
    "neu": "new",
    "Fahrgäste mit neuer Abholzeit": "Riders with a new pickup time",
    "Abholung bisher": "Pickup now",
    "Abholung neu": "Pickup new",
    "Minuten": "Minutes",
    "Keine Abholzeit ändert sich um eine Minute oder mehr.": (
        "No pickup time changes by a minute or more."
    ),
    "Übernommen wird der Plan nur, wenn sich der Tag seit der Berechnung nicht geändert hat.": (
        "The plan is stored only if the day has not changed since it was computed."
    ),
    "Übernehmen": "Accept",
    "Verwerfen": "Discard",
    "Änderungen": "Changes",
    "%(time)s von %(user)s": "%(time)s by %(user)s",
    "Dieses Angebot ändert eine bestehende Buchung.": "This offer changes an existing booking.",
    "Dieses Angebot gehört zu einer anderen Buchung.": "This offer belongs to another booking.",
    "Eine Fahrt zum Anschluss an eine Linie kann nicht geändert werden. Bitte stornieren Sie "
    "sie und buchen Sie die neue Fahrt.": (
        "A trip to a scheduled connection cannot be changed. Please cancel it and book the "
        "new trip."
    ),
    "Die Abholung ist um %(time)s Uhr. Für eine Änderung ist es jetzt zu spät.": (
        "The pickup is at %(time)s. It is too late to change it now."
    ),
    "Der neue Plan ist günstiger. Übernehmen oder verwerfen?": (
        "The new plan costs less. Accept or discard it?"
    ),
    "Der neue Plan hält jede Zusage, ist aber teurer als der bisherige. Übernehmen oder "
    "verwerfen?": (
        "The new plan keeps every promise but costs more than the current one. Accept or "
        "discard it?"
    ),
    "Der Vorschlag wurde verworfen; der bisherige Plan bleibt.": (
        "The proposal was discarded; the current plan stays."
    ),
    # --- notify
    "Benachrichtigungen (freiwillig)": "Notifications (optional)",
    "E-Mail-Adresse": "E-mail address",
    "SMS an diese Nummer": "Text messages (SMS) to this number",
    "Bei Änderungen anrufen": "Call me if anything changes",
    "Sprache der Nachrichten": "Language of the messages",
    "Sie erhalten die Bestätigung, eine Erinnerung am Vorabend, geänderte Zeiten, Absagen "
    "und kurz vor der Abholung „Ihr Bus ist gleich da“.": (
        "You get the confirmation, a reminder the evening before, changed times, "
        "cancellations and, shortly before the pickup, “your bus is almost there”."
    ),
    "Bei einer Festnetznummer ruft die Leitstelle an, wenn sich die Zeit ändert oder die "
    "Fahrt abgesagt wird.": (
        "For a landline number the dispatch centre calls if the time changes or the ride is "
        "cancelled."
    ),
    "Die E-Mail-Adresse und die Nachrichten ebenso.": "So are the e-mail address and the messages.",
    "Bitte geben Sie eine E-Mail-Adresse wie name@example.de an, oder lassen Sie das Feld leer.": (
        "Please enter an e-mail address such as name@example.com, or leave the field empty."
    ),
    "Bestätigung": "Confirmation",
    "Erinnerung": "Reminder",
    "Zeitänderung": "Time change",
    "Absage": "Cancellation",
    "Bus gleich da": "Bus almost there",
    "E-Mail": "E-mail",
    "SMS": "SMS",
    "Anruf": "Call",
    "wartet": "waiting",
    "gesendet": "sent",
    "bitte anrufen": "please call",
    "angerufen": "called",
    "verworfen": "dropped",
    "nicht nötig": "not needed",
    "Nachrichten": "Messages",
    "Nachrichten an Fahrgäste": "Messages to riders",
    "Nachrichten an den Fahrgast": "Messages to the rider",
    "Anrufliste": "Call list",
    "Fahrgäste mit Festnetznummer, die benachrichtigt werden möchten: bitte anrufen und "
    "dann abhaken.": (
        "Riders with a landline who want to be told: please call them, then tick them off."
    ),
    "Niemand ist anzurufen.": "Nobody to call.",
    "Fehlgeschlagen oder wartend": "Failed or waiting",
    "Alle Nachrichten sind versandt.": "All messages have been sent.",
    "Nachricht": "Message",
    "Weg": "Channel",
    "An": "To",
    "Versuche": "Attempts",
    "Angerufen": "Called",
    "Als angerufen vermerkt.": "Marked as called.",
    "Gewünscht": "Wanted",
    "E-Mail an %(address)s": "e-mail to %(address)s",
    "SMS oder Anruf an die Telefonnummer": "SMS or call to the phone number",
    "keine Nachrichten": "no messages",
    "Noch keine Nachrichten.": "No messages yet.",
    # --- dayview
    "Aktionen": "Actions",
    "Buchung öffnen": "Open booking",
    "keine": "none",
    "Suchen und filtern": "Search and filter",
    "Alle Fahrzeuge": "All vehicles",
    "Alle": "All",
    "Fahrgast oder Buchungscode": "Rider or booking code",
    "Filtern": "Filter",
    "Alle Filter zurücksetzen": "Clear all filters",
    "Gefundene Buchungen": "Bookings found",
    "%(count)s Buchungen gefunden.": "%(count)s bookings found.",
    "Fahrt": "Trip",
    "Karte der Tour von %(vehicle)s": "Map of the route of %(vehicle)s",
    "Karte zeigt": "Map shows",
    "Depot": "Depot",
    "Legende der Karte": "Map legend",
    "jetzt %(time)s Uhr": "now %(time)s",
    "jetzt": "now",
    "oben": "top",
    "unten": "bottom",
    "Buchungen": "Bookings",
    "Strecke": "Distance",
    "Höchstbesetzung": "Peak load",
    "%(vehicle)s hat an diesem Tag keine Fahrten.": "%(vehicle)s has no trips on this day.",
    "Erster Halt": "First stop",
    "Letzter Halt": "Last stop",
    "Haltestellenlisten": "Stop lists",
    "%(count)s Buchungen": "%(count)s bookings",
    "gefährdet": "at risk",
    "erledigt": "done",
    "Das Fahrzeug „%(vehicle)s“ gibt es nicht. Bitte wählen Sie eines aus der Liste.": (
        "There is no vehicle “%(vehicle)s”. Please choose one from the list."
    ),
    "Unbekannter Status „%(status)s“. Bitte wählen Sie einen aus der Liste.": (
        "Unknown status “%(status)s”. Please choose one from the list."
    ),
}


WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
MONTHS = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
           "September", "Oktober", "November", "Dezember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}  # fmt: skip


def format_day(day: date | str) -> str:
    """A date as people read it, always with the weekday.

    For example "Mittwoch, 2. Dezember 2026" ("Wednesday, 2 December 2026").
    """
    if isinstance(day, str):
        day = date.fromisoformat(day)
    lang = current_language()
    weekday, month = WEEKDAYS[lang][day.weekday()], MONTHS[lang][day.month - 1]
    if lang == "de":
        return f"{weekday}, {day.day}. {month} {day.year}"
    return f"{weekday}, {day.day} {month} {day.year}"


def gettext(message: str) -> str:
    """Translate a German ``message`` into the request's language."""
    if current_language() == "en":
        return ENGLISH.get(message, message)
    return message


def current_language() -> str:
    """The language chosen with the switch; German until someone chooses."""
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "de"


def init_app(app: Flask) -> None:
    """Give every template ``_``, the current language and the ``day`` and ``hhmm`` filters."""
    app.jinja_env.globals.update(_=gettext, current_language=current_language)
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["hhmm"] = hhmm
